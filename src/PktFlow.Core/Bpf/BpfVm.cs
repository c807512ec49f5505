using System.Buffers.Binary;
using System.Numerics;

namespace PktFlow.Bpf;

/// <summary>A helper: r1..r5 in, r0 out. It calls <see cref="BpfVm.Fail"/> to end the run with an error.</summary>
public delegate ulong BpfHelper(BpfVm vm, ulong r1, ulong r2, ulong r3, ulong r4, ulong r5);

/// <summary>How a run ended: r0 at the final exit, or an error naming the instruction.</summary>
public readonly record struct BpfRunResult(ulong R0, string? Error, int ErrorInsn, long Executed)
{
    public bool Ok => Error is null;
    public override string ToString() => Ok ? $"r0 = 0x{R0:x}" : $"error at instruction {ErrorInsn}: {Error}";
}

/// <summary>
/// The eBPF interpreter (RFC 9669; the kernel's ___bpf_prog_run in kernel/bpf/core.c is the same
/// idea). One VM per attach point per replay, reused for every packet: registers, the stack (512
/// bytes per frame, MAX_CALL_FRAMES = 8 frames) and the region table are allocated once.
/// Not thread safe.
/// </summary>
public sealed class BpfVm
{
    public const int StackPerFrame = 512, MaxFrames = 8;
    /// <summary>Tail calls one run may make (MAX_TAIL_CALL_CNT, include/linux/bpf.h).</summary>
    public const int MaxTailCallCnt = 33;
    /// <summary>Instructions one run may execute: the verifier proves termination, the model bounds it.</summary>
    public const long InstructionBudget = 1_000_000;
    /// <summary>Map handles (lddw src=1) live far from any region, so using one as a pointer faults.</summary>
    public const ulong MapHandleBase = 0xFEED_0000_0000_0000UL;

    private readonly ulong[] _r = new ulong[11];
    private readonly byte[] _stack = new byte[StackPerFrame * MaxFrames];
    private readonly int[] _retPc = new int[MaxFrames];
    private readonly ulong[] _saved = new ulong[MaxFrames * 5];
    private ulong _stackBase;
    private string? _error;
    private List<string>? _notes;

    public BpfMemory Memory { get; } = new();
    public BpfHelperTable Helpers { get; }
    /// <summary>The maps of the program being run (indexes as in <see cref="BpfProgram.Maps"/>).</summary>
    public BpfMapState[] Maps { get; private set; } = [];
    /// <summary>What the run's helpers want to leave in the trace (trace_printk lines).</summary>
    public IReadOnlyList<string> Notes => (IReadOnlyList<string>?)_notes ?? [];
    /// <summary>Free for the attach point: the helpers of a program type find their packet here.</summary>
    public object? Host { get; set; }
    /// <summary>bpf_ktime_get_ns: the capture time of the packet being run, in nanoseconds.</summary>
    public ulong TimeNs { get; set; }
    /// <summary>The tail calls the last run made (each one counts towards <see cref="MaxTailCallCnt"/>, taken or not).</summary>
    public int TailCalls { get; private set; }
    /// <summary>The last run's tail calls in order, a repeated one counted (words only when <see cref="TailCallText"/> asks).</summary>
    public IReadOnlyList<BpfTailCall> TailCallLog => _tailLog;
    private readonly List<BpfTailCall> _tailLog = [];

    public BpfVm(BpfHelperTable helpers) => Helpers = helpers;

    /// <summary>Starts a run: forgets the last run's regions and notes, adds the stack.</summary>
    public void Reset(BpfMapState[] maps)
    {
        Maps = maps;
        Memory.Clear();
        Array.Clear(_stack);
        _notes?.Clear();
        _error = null;
        _stackBase = Memory.Add(_stack, 0, _stack.Length, writable: true, "stack");
    }

    /// <summary>Ends the run with an error (a helper's bad argument, a map that is not one).</summary>
    public void Fail(string error) => _error ??= error;

    public void Note(string text) => (_notes ??= []).Add(text);

    public BpfMapState? MapOf(ulong handle)
    {
        ulong i = handle - MapHandleBase;
        return i < (ulong)Maps.Length ? Maps[i] : null;
    }

    /// <summary>The bytes at addr a helper reads or writes, or null after failing the run.</summary>
    public Span<byte> Bytes(ulong addr, int size, bool write, string what)
    {
        if (size >= 0 && Memory.TryResolve(addr, size, write, out var span)) return span;
        Fail($"{what}: {(write ? "write" : "read")} of {size} bytes at {Memory.Describe(addr)} is out of bounds");
        return Span<byte>.Empty;
    }

    public BpfRunResult Run(BpfProgram prog, ulong r1 = 0, ulong r2 = 0)
    {
        if (Maps.Length != prog.Maps.Count) throw new InvalidOperationException("Reset with the program's maps before Run");
        var insns = prog._insns;
        var r = _r;
        Array.Clear(r);
        TailCalls = 0;
        _tailLog.Clear();
        r[1] = r1;
        r[2] = r2;
        r[10] = _stackBase + (ulong)_stack.Length;
        int depth = 0, pc = 0;
        long executed = 0;
        while (true)
        {
            if (++executed > InstructionBudget) return Error(pc, $"more than {InstructionBudget} instructions executed", executed);
            if ((uint)pc >= (uint)insns.Length) return Error(pc, "fell off the end of the program", executed);
            var x = insns[pc];
            int op = x.Opcode;
            ulong imm = (ulong)(long)x.Imm; // sign extended, as the ISA reads imm for 64-bit operands
            switch (x.Class)
            {
                case BpfOp.Alu64:
                {
                    ulong src = (op & BpfOp.X) != 0 ? r[x.Src] : imm;
                    if (!Alu64(ref r[x.Dst], op & 0xF0, src, x, out var bad)) return Error(pc, bad!, executed);
                    break;
                }
                case BpfOp.Alu:
                {
                    uint src = (op & BpfOp.X) != 0 ? (uint)r[x.Src] : (uint)x.Imm;
                    if ((op & 0xF0) == BpfOp.End) { r[x.Dst] = ToOrder(r[x.Dst], x.Imm, bigEndian: (op & BpfOp.X) != 0); break; }
                    if ((op & 0xF0) > BpfOp.Arsh) return Error(pc, $"unknown ALU operation 0x{op & 0xF0:x2}", executed);
                    r[x.Dst] = Alu32((uint)r[x.Dst], op & 0xF0, src, x);
                    break;
                }
                case BpfOp.Jmp:
                case BpfOp.Jmp32:
                {
                    int j = op & 0xF0;
                    if (x.Class == BpfOp.Jmp && j == BpfOp.Exit)
                    {
                        if (depth == 0) return new BpfRunResult(r[0], null, -1, executed);
                        depth--;
                        for (int k = 0; k < 4; k++) r[6 + k] = _saved[depth * 5 + k];
                        r[10] = _saved[depth * 5 + 4];
                        pc = _retPc[depth];
                        continue;
                    }
                    if (x.Class == BpfOp.Jmp && j == BpfOp.Call)
                    {
                        if (op == BpfOp.CallOp && x.Src == BpfOp.PseudoCall)
                        {
                            if (depth + 1 >= MaxFrames) return Error(pc, $"call depth over {MaxFrames} frames", executed);
                            for (int k = 0; k < 4; k++) _saved[depth * 5 + k] = r[6 + k];
                            _saved[depth * 5 + 4] = r[10];
                            _retPc[depth] = pc + 1;
                            depth++;
                            r[10] -= StackPerFrame;
                            pc = pc + 1 + x.Imm;
                            continue;
                        }
                        if (op == BpfOp.CallOp && x.Src == BpfOp.PseudoKfuncCall) return Error(pc, "unsupported: kfunc calls", executed);
                        long id = op == BpfOp.CallX ? (long)r[x.Dst] : x.Imm;
                        if (id == BpfHelperTable.TailCall)
                        {
                            if (depth > 0) return Error(pc, "unsupported: bpf_tail_call from a subprogram", executed);
                            var next = TailCall(r[2], r[3]);
                            if (_error is not null) return Error(pc, $"bpf_tail_call: {_error}", executed);
                            if (next is null) break; // fell through: the next instruction, registers as they were
                            prog = next;
                            insns = next._insns;
                            pc = 0;
                            continue;
                        }
                        var h = id is >= 0 and < BpfHelperTable.Size ? Helpers[(int)id] : null;
                        if (h is null) return Error(pc, $"unsupported: bpf helper {id}", executed);
                        r[0] = h(this, r[1], r[2], r[3], r[4], r[5]);
                        if (_error is not null) return Error(pc, $"{BpfHelperTable.NameOf((int)id)}: {_error}", executed);
                        break;
                    }
                    if (j == BpfOp.Ja) { pc += 1 + (x.Class == BpfOp.Jmp32 ? x.Imm : x.Offset); continue; }
                    bool taken = x.Class == BpfOp.Jmp
                        ? Compare<ulong, long>(j, r[x.Dst], (op & BpfOp.X) != 0 ? r[x.Src] : imm)
                        : Compare<uint, int>(j, (uint)r[x.Dst], (op & BpfOp.X) != 0 ? (uint)r[x.Src] : (uint)x.Imm);
                    if (taken) { pc += 1 + x.Offset; continue; }
                    break;
                }
                case BpfOp.Ldx:
                {
                    int size = BpfOp.SizeBytes(op);
                    if (!Load(r[x.Src] + (ulong)(long)x.Offset, size, out ulong v)) return MemError(pc, "read", r[x.Src], x.Offset, size, executed);
                    if ((op & 0xE0) == BpfOp.MemSx)
                        v = size switch { 1 => (ulong)(sbyte)v, 2 => (ulong)(short)v, _ => (ulong)(int)v };
                    r[x.Dst] = v;
                    break;
                }
                case BpfOp.St:
                case BpfOp.Stx:
                {
                    int size = BpfOp.SizeBytes(op);
                    ulong addr = r[x.Dst] + (ulong)(long)x.Offset;
                    if ((op & 0xE0) == BpfOp.Atomic)
                    {
                        if (!Atomic(addr, size, x.Imm, x.Src)) return MemError(pc, "atomic", r[x.Dst], x.Offset, size, executed);
                        break;
                    }
                    ulong v = x.Class == BpfOp.St ? imm : r[x.Src];
                    if (!Store(addr, size, v)) return MemError(pc, "write", r[x.Dst], x.Offset, size, executed);
                    break;
                }
                default: // Ld
                {
                    if (op != BpfOp.LdDw)
                    {
                        if (depth > 0) return Error(pc, "unsupported: BPF_LD_ABS/IND in a subprogram", executed);
                        if (LoadAbs(x, out bool fault) is { } bad) return Error(pc, bad, executed);
                        if (fault) return new BpfRunResult(0, null, -1, executed); // the rewrite's exit with r0 = 0
                        break;
                    }
                    ulong v = (uint)x.Imm | (ulong)(uint)insns[pc + 1].Imm << 32;
                    if (x.Src == BpfOp.PseudoMapFd) v = MapHandleBase + (ulong)x.Imm;
                    else if (x.Src == BpfOp.PseudoMapValue)
                    {
                        var m = Maps[x.Imm];
                        var value = m.FirstValue;
                        ulong b = value is null ? 0 : Memory.Add(value, 0, value.Length, !m.Def.ReadOnly, m.ValueRegion);
                        if (b == 0) return Error(pc, $"map {m.Def.Name}: no value to point into", executed);
                        v = b + (uint)insns[pc + 1].Imm;
                    }
                    r[x.Dst] = v;
                    pc += 2;
                    continue;
                }
            }
            pc++;
        }
    }

    private BpfRunResult Error(int pc, string what, long executed) => new(0, what, pc, executed);

    /// <summary>
    /// bpf_tail_call(ctx, map, index) as the interpreter's JMP_TAIL_CALL runs it: an index past
    /// max_entries falls through; then the count is checked and raised (an empty slot counts too);
    /// an empty slot falls through; else the slot's program runs from its start in this frame.
    /// </summary>
    private BpfProgram? TailCall(ulong map, ulong index)
    {
        var m = MapOf(map);
        if (m is null || m.Def.Type != BpfMapType.ProgArray) { Fail($"r2 0x{map:x} is not a program array"); return null; }
        uint i = (uint)index;
        if (i >= (uint)m.Def.MaxEntries) { Log(new(m, i, BpfTailCallOutcome.BeyondMaxEntries, null)); return null; }
        if (TailCalls >= MaxTailCallCnt) { Log(new(m, i, BpfTailCallOutcome.CountReached, null)); return null; }
        TailCalls++;
        var next = m.ProgramAt(i);
        Log(new(m, i, next is null ? BpfTailCallOutcome.EmptySlot : BpfTailCallOutcome.Taken, next));
        if (next is not null && next.Maps.Count != Maps.Length) { Fail($"{m.Def.Name}[{i}]: {next.Name} has other maps"); return null; }
        return next;
    }

    /// <summary>Records a tail call as data (the text is made only when a trace asks for it); a repeat of the last one is counted.</summary>
    private void Log(BpfTailCall call)
    {
        if (_tailLog.Count > 0 && _tailLog[^1].SameAs(call)) _tailLog[^1] = _tailLog[^1] with { Times = _tailLog[^1].Times + 1 };
        else _tailLog.Add(call);
    }

    /// <summary>The tail calls of the last run as one line, or "" when it made none.</summary>
    public string TailCallText => _tailLog.Count == 0 ? "" :
        "tail calls: " + string.Join("; ", _tailLog.Select(t => t.Times == 1 ? t.What : $"{t.What} (x{t.Times})"));

    /// <summary>
    /// BPF_LD_ABS/IND as the verifier rewrites them for tc (bpf_gen_ld_abs): r2 = imm (+ src for
    /// IND), r1 = r6 (the context), call bpf_skb_load_helper_N, and when that fails exit with r0 = 0.
    /// Returns an error for what the model cannot run; fault says the program ends.
    /// </summary>
    private string? LoadAbs(BpfInsn x, out bool fault)
    {
        fault = false;
        var r = _r;
        if (Memory.ContextAt(r[6], out int at) is not { } ctx || at != 0)
            return "BPF_LD_ABS/IND: r6 is not the context (the verifier requires it there)";
        ulong off = (ulong)(long)x.Imm + ((x.Opcode & 0xE0) == BpfOp.Ind ? r[x.Src] : 0);
        r[1] = r[6];
        r[2] = off;
        if (!ctx.LoadAbs((int)(uint)off, BpfOp.SizeBytes(x.Opcode), out uint v, out string? error))
        {
            fault = error is null;
            return error;
        }
        r[0] = v;
        return null;
    }

    private BpfRunResult MemError(int pc, string access, ulong reg, short off, int size, long executed)
    {
        ulong addr = reg + (ulong)(long)off;
        if (_error is not null) return Error(pc, _error, executed);
        return Error(pc, $"{access} of {size} bytes at {Memory.Describe(addr)}: out of bounds", executed);
    }

    private bool Load(ulong addr, int size, out ulong v)
    {
        if (Memory.TryResolve(addr, size, false, out var s))
        {
            v = size switch
            {
                1 => s[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(s),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(s),
            };
            return true;
        }
        v = 0;
        var ctx = Memory.ContextAt(addr, out int off);
        return ctx is not null && ctx.Load(this, off, size, out v);
    }

    private bool Store(ulong addr, int size, ulong v)
    {
        if (Memory.TryResolve(addr, size, true, out var s))
        {
            switch (size)
            {
                case 1: s[0] = (byte)v; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)v); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(s, v); break;
            }
            return true;
        }
        var ctx = Memory.ContextAt(addr, out int off);
        return ctx is not null && ctx.Store(this, off, size, v);
    }

    /// <summary>BPF_ATOMIC (RFC 9669 section 5.3): one CPU, so read-modify-write in order is atomic.</summary>
    private bool Atomic(ulong addr, int size, int imm, int srcReg)
    {
        if (!Memory.TryResolve(addr, size, true, out _)) return false;
        Load(addr, size, out ulong old);
        ulong src = _r[srcReg], mask = size == 4 ? 0xFFFF_FFFFUL : ulong.MaxValue;
        if (imm == BpfOp.CmpXchg)
        {
            if ((_r[0] & mask) == old) Store(addr, size, src);
            _r[0] = old;
            return true;
        }
        ulong nv = (imm & ~BpfOp.Fetch) switch
        {
            BpfOp.Add => old + src,
            BpfOp.Or => old | src,
            BpfOp.And => old & src,
            BpfOp.Xor => old ^ src,
            _ => src, // xchg
        };
        Store(addr, size, nv & mask);
        if ((imm & BpfOp.Fetch) != 0) _r[srcReg] = old;
        return true;
    }

    /// <summary>
    /// One ALU operation in the width TU (uint for BPF_ALU, ulong for BPF_ALU64) with TS its signed
    /// twin. Division by zero gives 0 and modulo by zero leaves dst (RFC 9669 section 4.1); the
    /// signed forms (offset 1) wrap INT_MIN / -1 instead of trapping; shifts use the low bits only.
    /// </summary>
    private static TU Alu<TU, TS>(TU dst, int op, TU src, bool signed)
        where TU : IBinaryInteger<TU>, IUnsignedNumber<TU> where TS : IBinaryInteger<TS>, ISignedNumber<TS>
    {
        int shift = int.CreateTruncating(src) & (TU.AllBitsSet.GetByteCount() * 8 - 1);
        TS sd = TS.CreateTruncating(dst), ss = TS.CreateTruncating(src);
        return op switch
        {
            BpfOp.Add => dst + src,
            BpfOp.Sub => dst - src,
            BpfOp.Mul => dst * src,
            BpfOp.Div when TU.IsZero(src) => TU.Zero,
            BpfOp.Div when !signed => dst / src,
            BpfOp.Div => ss == TS.NegativeOne ? TU.CreateTruncating(-sd) : TU.CreateTruncating(sd / ss),
            BpfOp.Mod when TU.IsZero(src) => dst,
            BpfOp.Mod when !signed => dst % src,
            BpfOp.Mod => ss == TS.NegativeOne ? TU.Zero : TU.CreateTruncating(sd % ss),
            BpfOp.Or => dst | src,
            BpfOp.And => dst & src,
            BpfOp.Lsh => dst << shift,
            BpfOp.Rsh => dst >>> shift,
            BpfOp.Arsh => TU.CreateTruncating(sd >> shift),
            BpfOp.Neg => TU.CreateTruncating(-sd),
            BpfOp.Xor => dst ^ src,
            _ => src, // Mov; movsx is done by the caller
        };
    }

    private static bool Alu64(ref ulong dst, int op, ulong src, BpfInsn x, out string? error)
    {
        error = null;
        if (op == BpfOp.End)
            dst = x.Imm switch { 16 => BinaryPrimitives.ReverseEndianness((ushort)dst), 32 => BinaryPrimitives.ReverseEndianness((uint)dst), _ => BinaryPrimitives.ReverseEndianness(dst) };
        else if (op == BpfOp.Mov)
            dst = x.Offset switch { 8 => (ulong)(sbyte)src, 16 => (ulong)(short)src, 32 => (ulong)(int)src, _ => src };
        else if (op > BpfOp.Arsh) { error = $"unknown ALU64 operation 0x{op:x2}"; return false; }
        else dst = Alu<ulong, long>(dst, op, src, x.Offset == 1);
        return true;
    }

    /// <summary>32-bit ALU: operands are the low halves, the result is zero-extended into the register.</summary>
    private static ulong Alu32(uint dst, int op, uint src, BpfInsn x) => op == BpfOp.Mov
        ? x.Offset switch { 8 => (uint)(sbyte)src, 16 => (uint)(short)src, _ => src }
        : Alu<uint, int>(dst, op, src, x.Offset == 1);

    /// <summary>BPF_END in the ALU class: to little (a truncation on this little-endian model) or big endian.</summary>
    private static ulong ToOrder(ulong v, int bits, bool bigEndian) => bits switch
    {
        16 => bigEndian ? BinaryPrimitives.ReverseEndianness((ushort)v) : (ushort)v,
        32 => bigEndian ? BinaryPrimitives.ReverseEndianness((uint)v) : (uint)v,
        _ => bigEndian ? BinaryPrimitives.ReverseEndianness(v) : v,
    };

    /// <summary>A conditional jump's test in the width TU (BPF_JMP: ulong, BPF_JMP32: uint), TS signed.</summary>
    private static bool Compare<TU, TS>(int j, TU a, TU b)
        where TU : IBinaryInteger<TU>, IUnsignedNumber<TU> where TS : IBinaryInteger<TS>, ISignedNumber<TS>
    {
        TS sa = TS.CreateTruncating(a), sb = TS.CreateTruncating(b);
        return j switch
        {
            BpfOp.Jeq => a == b,
            BpfOp.Jgt => a > b,
            BpfOp.Jge => a >= b,
            BpfOp.Jset => !TU.IsZero(a & b),
            BpfOp.Jne => a != b,
            BpfOp.Jsgt => sa > sb,
            BpfOp.Jsge => sa >= sb,
            BpfOp.Jlt => a < b,
            BpfOp.Jle => a <= b,
            BpfOp.Jslt => sa < sb,
            _ => sa <= sb, // Jsle
        };
    }
}
