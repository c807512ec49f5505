namespace PktFlow.Bpf;

/// <summary>A program that cannot be loaded: names the instruction, as the verifier's log does.</summary>
public sealed class BpfLoadException(string message) : Exception(message);

/// <summary>
/// An eBPF program ready to run: its instructions (relocations applied), the maps its lddw
/// instructions name by index (src BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE, imm = index into
/// <see cref="Maps"/>), and where it came from. Immutable; the maps' contents live in
/// <see cref="BpfMapState"/> per replay.
/// </summary>
public sealed class BpfProgram
{
    public string Name { get; }
    public string Section { get; }
    public IReadOnlyList<BpfInsn> Instructions => _insns;
    public IReadOnlyList<BpfMapDef> Maps { get; }
    internal readonly BpfInsn[] _insns;

    public BpfProgram(string name, string section, BpfInsn[] insns, IReadOnlyList<BpfMapDef>? maps = null)
    {
        Name = name;
        Section = section;
        _insns = insns;
        Maps = maps ?? [];
        Check();
    }

    /// <summary>
    /// The structural checks the verifier makes before it walks states (check_subprogs, the CFG
    /// check, resolve_pseudo_ldimm64): known opcodes, registers, jump and call targets inside the
    /// program and never into the second slot of an lddw, map indexes. Values are checked when the
    /// program runs instead: an out-of-bounds access is a run error naming the instruction.
    /// </summary>
    private void Check()
    {
        if (_insns.Length == 0) throw new BpfLoadException($"{Name}: empty program");
        var second = new bool[_insns.Length];
        for (int i = 0; i < _insns.Length; i++)
        {
            var x = _insns[i];
            if (x.Opcode == BpfOp.LdDw)
            {
                if (i + 1 >= _insns.Length) throw Bad(i, "lddw without its second slot");
                second[i + 1] = true;
                i++;
            }
        }
        for (int i = 0; i < _insns.Length; i++)
        {
            if (second[i]) continue;
            var x = _insns[i];
            if (x.Dst > 10 || x.Src > 10) throw Bad(i, $"invalid register r{Math.Max(x.Dst, x.Src)}");
            if (!Known(x)) throw Bad(i, $"unknown opcode 0x{x.Opcode:x2}");
            int cls = x.Class;
            if (cls is BpfOp.Alu or BpfOp.Alu64 or BpfOp.Ldx && x.Dst == 10) throw Bad(i, "frame pointer r10 is read only");
            if (x.Opcode == BpfOp.LdDw)
            {
                if (x.Src is BpfOp.PseudoMapFd or BpfOp.PseudoMapValue && (uint)x.Imm >= (uint)Maps.Count)
                    throw Bad(i, $"lddw names map {x.Imm}, the program has {Maps.Count}");
                if (x.Src > BpfOp.PseudoMapValue) throw Bad(i, $"unsupported: lddw pseudo source {x.Src}");
                if (x.Dst == 10) throw Bad(i, "frame pointer r10 is read only");
            }
            if (cls is BpfOp.Jmp or BpfOp.Jmp32)
            {
                int op = x.Opcode & 0xF0;
                if (op == BpfOp.Exit) continue;
                if (op == BpfOp.Call)
                {
                    if (x.Opcode == BpfOp.CallOp && x.Src == BpfOp.PseudoCall) Target(i, i + 1 + x.Imm, second);
                    continue;
                }
                int off = cls == BpfOp.Jmp32 && op == BpfOp.Ja ? x.Imm : x.Offset;
                Target(i, i + 1 + off, second);
            }
        }
    }

    private void Target(int i, long target, bool[] second)
    {
        if (target < 0 || target >= _insns.Length) throw Bad(i, $"jump out of range to {target}");
        if (second[target]) throw Bad(i, $"jump into the middle of lddw at {target - 1}");
    }

    private BpfLoadException Bad(int i, string what) => new($"{Name}: instruction {i}: {what}");

    private static bool Known(BpfInsn x)
    {
        int op = x.Opcode;
        switch (x.Class)
        {
            case BpfOp.Alu:
            case BpfOp.Alu64:
                int alu = op & 0xF0;
                if (alu > BpfOp.End) return false;
                if (alu == BpfOp.End) return x.Imm is 16 or 32 or 64 && (x.Class == BpfOp.Alu || (op & BpfOp.X) == 0);
                if (alu == BpfOp.Mov && x.Offset != 0) return (op & BpfOp.X) != 0 && (x.Offset is 8 or 16 || x.Offset == 32 && x.Class == BpfOp.Alu64);
                if (alu is BpfOp.Div or BpfOp.Mod) return x.Offset is 0 or 1;
                return true;
            case BpfOp.Jmp:
            case BpfOp.Jmp32:
                int j = op & 0xF0;
                if (j > BpfOp.Jsle) return false;
                if (j is BpfOp.Call or BpfOp.Exit) return x.Class == BpfOp.Jmp && (j == BpfOp.Exit ? op == BpfOp.ExitOp : op is BpfOp.CallOp or BpfOp.CallX);
                if (j == BpfOp.Ja) return (op & BpfOp.X) == 0;
                return true;
            case BpfOp.Ld:
                return op == BpfOp.LdDw || (op & 0xE0) is BpfOp.Abs or BpfOp.Ind && (op & 0x18) != BpfOp.DW;
            case BpfOp.Ldx:
                return (op & 0xE0) == BpfOp.Mem || (op & 0xE0) == BpfOp.MemSx && (op & 0x18) != BpfOp.DW;
            case BpfOp.St:
                return (op & 0xE0) == BpfOp.Mem;
            default: // Stx
                if ((op & 0xE0) == BpfOp.Mem) return true;
                if ((op & 0xE0) != BpfOp.Atomic || (op & 0x18) is not (BpfOp.W or BpfOp.DW)) return false;
                return (x.Imm & ~BpfOp.Fetch) is BpfOp.Add or BpfOp.Or or BpfOp.And or BpfOp.Xor || x.Imm is BpfOp.Xchg or BpfOp.CmpXchg;
        }
    }
}
