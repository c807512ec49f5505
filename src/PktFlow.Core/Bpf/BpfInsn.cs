using System.Buffers.Binary;

namespace PktFlow.Bpf;

/// <summary>
/// One eBPF instruction slot (RFC 9669 section 3, struct bpf_insn in include/uapi/linux/bpf.h):
///
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |    opcode     |  src  |  dst  |            offset             |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |                          immediate                            |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Little-endian, as clang's -target bpf (bpfel) writes it: dst in the low nibble of byte 1.
/// lddw takes two slots; the second holds only the upper 32 bits of the immediate.
/// </summary>
public readonly record struct BpfInsn(byte Opcode, byte Dst, byte Src, short Offset, int Imm)
{
    public const int Size = 8;

    public static BpfInsn Decode(ReadOnlySpan<byte> b) => new(
        b[0], (byte)(b[1] & 0x0F), (byte)(b[1] >> 4),
        BinaryPrimitives.ReadInt16LittleEndian(b[2..]), BinaryPrimitives.ReadInt32LittleEndian(b[4..]));

    public void Encode(Span<byte> b)
    {
        b[0] = Opcode;
        b[1] = (byte)(Dst & 0x0F | Src << 4);
        BinaryPrimitives.WriteInt16LittleEndian(b[2..], Offset);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], Imm);
    }

    public static BpfInsn[] DecodeAll(ReadOnlySpan<byte> code)
    {
        var insns = new BpfInsn[code.Length / Size];
        for (int i = 0; i < insns.Length; i++) insns[i] = Decode(code.Slice(i * Size, Size));
        return insns;
    }

    public int Class => Opcode & 0x07;
}

/// <summary>Opcode fields (RFC 9669 sections 3-5; BPF_* in include/uapi/linux/bpf_common.h and bpf.h).</summary>
public static class BpfOp
{
    // instruction classes
    public const int Ld = 0x00, Ldx = 0x01, St = 0x02, Stx = 0x03, Alu = 0x04, Jmp = 0x05, Jmp32 = 0x06, Alu64 = 0x07;
    // source: immediate (K) or register (X); for END the byte order (TO_LE / TO_BE)
    public const int K = 0x00, X = 0x08;
    // ALU operations (upper four bits)
    public const int Add = 0x00, Sub = 0x10, Mul = 0x20, Div = 0x30, Or = 0x40, And = 0x50, Lsh = 0x60, Rsh = 0x70,
        Neg = 0x80, Mod = 0x90, Xor = 0xa0, Mov = 0xb0, Arsh = 0xc0, End = 0xd0;
    // jump operations
    public const int Ja = 0x00, Jeq = 0x10, Jgt = 0x20, Jge = 0x30, Jset = 0x40, Jne = 0x50, Jsgt = 0x60, Jsge = 0x70,
        Call = 0x80, Exit = 0x90, Jlt = 0xa0, Jle = 0xb0, Jslt = 0xc0, Jsle = 0xd0;
    // load/store sizes and modes
    public const int W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
    public const int Imm = 0x00, Abs = 0x20, Ind = 0x40, Mem = 0x60, MemSx = 0x80, Atomic = 0xc0;
    // atomic operations (imm of an ATOMIC instruction)
    public const int Fetch = 0x01, Xchg = 0xe0 | Fetch, CmpXchg = 0xf0 | Fetch;
    // lddw src: BPF_PSEUDO_MAP_FD (a map), BPF_PSEUDO_MAP_VALUE (an address inside a map's value)
    public const int PseudoMapFd = 1, PseudoMapValue = 2;
    // call src: BPF_PSEUDO_CALL (bpf-to-bpf), BPF_PSEUDO_KFUNC_CALL
    public const int PseudoCall = 1, PseudoKfuncCall = 2;

    public const int LdDw = Ld | Imm | DW;        // 0x18
    public const int CallOp = Jmp | Call;         // 0x85
    public const int CallX = Jmp | Call | X;      // 0x8d: helper number in dst (BPF_CALLX)
    public const int ExitOp = Jmp | Exit;         // 0x95

    public static int SizeBytes(int opcode) => (opcode & 0x18) switch { W => 4, H => 2, B => 1, _ => 8 };
}
