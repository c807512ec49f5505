using System.Globalization;
using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// An assembler for the text syntax of the bpf_conformance corpus (ubpf's): `add32 %r0, 1`,
/// `ldxh %r3, [%r1+12]`, `lock fetch add [%r10-8], %r1`, `jne %r0, %r1, label`, `call 5`,
/// `call local func1`, `call %r2`, `lddw %r0, 0x1122...`. Labels end in ':'; a jump to the label
/// `exit` not defined goes to the first exit instruction, as the corpus's own assembler does.
/// </summary>
public static class BpfAsm
{
    private static readonly Dictionary<string, int> Alu = new()
    {
        ["add"] = BpfOp.Add, ["sub"] = BpfOp.Sub, ["mul"] = BpfOp.Mul, ["div"] = BpfOp.Div, ["sdiv"] = BpfOp.Div,
        ["or"] = BpfOp.Or, ["and"] = BpfOp.And, ["lsh"] = BpfOp.Lsh, ["rsh"] = BpfOp.Rsh, ["neg"] = BpfOp.Neg,
        ["mod"] = BpfOp.Mod, ["smod"] = BpfOp.Mod, ["xor"] = BpfOp.Xor, ["mov"] = BpfOp.Mov, ["arsh"] = BpfOp.Arsh,
    };
    private static readonly Dictionary<string, int> Jumps = new()
    {
        ["jeq"] = BpfOp.Jeq, ["jgt"] = BpfOp.Jgt, ["jge"] = BpfOp.Jge, ["jset"] = BpfOp.Jset, ["jne"] = BpfOp.Jne,
        ["jsgt"] = BpfOp.Jsgt, ["jsge"] = BpfOp.Jsge, ["jlt"] = BpfOp.Jlt, ["jle"] = BpfOp.Jle, ["jslt"] = BpfOp.Jslt, ["jsle"] = BpfOp.Jsle,
    };
    private static readonly Dictionary<string, int> Sizes = new() { ["b"] = BpfOp.B, ["h"] = BpfOp.H, ["w"] = BpfOp.W, ["dw"] = BpfOp.DW };
    private static readonly Dictionary<string, int> Atomics = new() { ["add"] = BpfOp.Add, ["or"] = BpfOp.Or, ["and"] = BpfOp.And, ["xor"] = BpfOp.Xor };

    public static BpfInsn[] Assemble(string text)
    {
        var insns = new List<BpfInsn>();
        var labels = new Dictionary<string, int>();
        var fixups = new List<(int At, string Label, int Line)>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Split('#')[0].Trim();
            if (line.Length == 0) continue;
            if (line.EndsWith(':')) { labels[line[..^1]] = insns.Count; continue; }
            int sp = line.IndexOf(' ');
            string mn = sp < 0 ? line : line[..sp];
            var ops = sp < 0 ? [] : line[(sp + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (mn == "exit" && !labels.ContainsKey("exit")) labels["exit"] = insns.Count;
            try { Encode(mn, ops, insns, fixups, lineNo); }
            catch (Exception e) when (e is FormatException or KeyNotFoundException or IndexOutOfRangeException or OverflowException)
            {
                throw new FormatException($"line {lineNo}: {raw.Trim()}: {e.Message}");
            }
        }
        foreach (var (at, label, line) in fixups)
        {
            if (!labels.TryGetValue(label, out int target)) throw new FormatException($"line {line}: unknown label {label}");
            var x = insns[at];
            int rel = target - at - 1;
            insns[at] = x.Opcode == BpfOp.CallOp || x.Opcode == (BpfOp.Jmp32 | BpfOp.Ja) ? x with { Imm = rel } : x with { Offset = (short)rel };
        }
        return insns.ToArray();
    }

    private static void Encode(string mn, string[] ops, List<BpfInsn> o, List<(int, string, int)> fixups, int line)
    {
        if (mn == "exit") { o.Add(new(BpfOp.ExitOp, 0, 0, 0, 0)); return; }
        if (mn == "lddw")
        {
            ulong v = ParseImm64(ops[1]);
            o.Add(new(BpfOp.LdDw, Reg(ops[0]), 0, 0, (int)(uint)v));
            o.Add(new(0, 0, 0, 0, (int)(uint)(v >> 32)));
            return;
        }
        if (mn == "call")
        {
            var parts = ops[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts[0] == "local") { fixups.Add((o.Count, parts[1], line)); o.Add(new(BpfOp.CallOp, 0, BpfOp.PseudoCall, 0, 0)); }
            else if (parts[0].StartsWith('%')) o.Add(new(BpfOp.CallX, Reg(parts[0]), 0, 0, 0));
            else o.Add(new(BpfOp.CallOp, 0, 0, 0, (int)ParseImm(parts[0])));
            return;
        }
        if (mn is "ja" or "ja32")
        {
            int cls = mn == "ja" ? BpfOp.Jmp : BpfOp.Jmp32;
            Target(ops[0], o, fixups, line, out short off);
            o.Add(new((byte)(cls | BpfOp.Ja), 0, 0, cls == BpfOp.Jmp ? off : (short)0, cls == BpfOp.Jmp ? 0 : off));
            return;
        }
        if (mn == "lock")
        {
            // lock [fetch] op[32] [%rX+off], %rY
            var words = ops[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            bool fetch = words[0] == "fetch";
            string op = fetch ? words[1] : words[0];
            var memText = fetch ? words[2] : words[1];
            bool w32 = op.EndsWith("32");
            if (w32) op = op[..^2];
            int imm = op switch { "xchg" => BpfOp.Xchg, "cmpxchg" => BpfOp.CmpXchg, _ => Atomics[op] | (fetch ? BpfOp.Fetch : 0) };
            var (r, off) = Mem(memText);
            o.Add(new((byte)(BpfOp.Stx | BpfOp.Atomic | (w32 ? BpfOp.W : BpfOp.DW)), r, Reg(ops[1]), off, imm));
            return;
        }
        if (mn.StartsWith("movsx"))
        {
            // movsx{from}{to}: 832, 864, 1632, 1664, 3264
            string digits = mn[5..];
            bool to64 = digits.EndsWith("64");
            short from = short.Parse(digits[..^2], CultureInfo.InvariantCulture);
            o.Add(new((byte)((to64 ? BpfOp.Alu64 : BpfOp.Alu) | BpfOp.Mov | BpfOp.X), Reg(ops[0]), Reg(ops[1]), from, 0));
            return;
        }
        foreach (var (prefix, cls, order) in new[] { ("bswap", BpfOp.Alu64, 0), ("swap", BpfOp.Alu64, 0), ("be", BpfOp.Alu, BpfOp.X), ("le", BpfOp.Alu, BpfOp.K) })
        {
            if (mn.StartsWith(prefix) && int.TryParse(mn[prefix.Length..], out int bits))
            {
                o.Add(new((byte)(cls | BpfOp.End | order), Reg(ops[0]), 0, 0, bits));
                return;
            }
        }
        if (mn.StartsWith("ldx") || mn.StartsWith("stx") || mn.StartsWith("st"))
        {
            if (mn.StartsWith("ldx"))
            {
                bool sx = mn.StartsWith("ldxs");
                int size = Sizes[mn[(sx ? 4 : 3)..]];
                var (src, off) = Mem(ops[1]);
                o.Add(new((byte)(BpfOp.Ldx | (sx ? BpfOp.MemSx : BpfOp.Mem) | size), Reg(ops[0]), src, off, 0));
                return;
            }
            if (mn.StartsWith("stx"))
            {
                var (dst, off) = Mem(ops[0]);
                o.Add(new((byte)(BpfOp.Stx | BpfOp.Mem | Sizes[mn[3..]]), dst, Reg(ops[1]), off, 0));
                return;
            }
            if (Sizes.TryGetValue(mn[2..], out int stSize))
            {
                var (dst, off) = Mem(ops[0]);
                o.Add(new((byte)(BpfOp.St | BpfOp.Mem | stSize), dst, 0, off, (int)ParseImm(ops[1])));
                return;
            }
        }
        string bare = mn.EndsWith("32") ? mn[..^2] : mn;
        bool is32 = bare != mn;
        if (Jumps.TryGetValue(bare, out int j))
        {
            int cls = is32 ? BpfOp.Jmp32 : BpfOp.Jmp;
            bool reg = ops[1].StartsWith('%');
            Target(ops[2], o, fixups, line, out short off);
            o.Add(new((byte)(cls | j | (reg ? BpfOp.X : BpfOp.K)), Reg(ops[0]), reg ? Reg(ops[1]) : (byte)0, off, reg ? 0 : (int)ParseImm(ops[1])));
            return;
        }
        if (Alu.TryGetValue(bare, out int a))
        {
            int cls = is32 ? BpfOp.Alu : BpfOp.Alu64;
            short signedOff = (short)(bare is "sdiv" or "smod" ? 1 : 0);
            if (ops.Length == 1) { o.Add(new((byte)(cls | a), Reg(ops[0]), 0, signedOff, 0)); return; }
            bool reg = ops[1].StartsWith('%');
            o.Add(new((byte)(cls | a | (reg ? BpfOp.X : BpfOp.K)), Reg(ops[0]), reg ? Reg(ops[1]) : (byte)0, signedOff, reg ? 0 : (int)ParseImm(ops[1])));
            return;
        }
        throw new FormatException($"unknown mnemonic {mn}");
    }

    private static void Target(string text, List<BpfInsn> o, List<(int, string, int)> fixups, int line, out short off)
    {
        off = 0;
        if (text.StartsWith('+') || text.StartsWith('-')) off = (short)ParseImm(text);
        else fixups.Add((o.Count, text, line));
    }

    private static byte Reg(string s) => s.StartsWith("%r") && byte.TryParse(s[2..], out byte r) && r <= 10 ? r : throw new FormatException($"bad register {s}");

    private static (byte Reg, short Off) Mem(string s)
    {
        // [%rN], [%rN+off], [%rN-off]
        if (!s.StartsWith('[') || !s.EndsWith(']')) throw new FormatException($"bad memory operand {s}");
        var inner = s[1..^1];
        int k = inner.IndexOfAny(['+', '-']);
        if (k < 0) return (Reg(inner), 0);
        return (Reg(inner[..k]), (short)ParseImm(inner[k..]));
    }

    /// <summary>Decimal or 0x hex, with an optional sign; wraps to 64 bits like stoull.</summary>
    public static long ParseImm(string s) => (long)ParseImm64(s);

    public static ulong ParseImm64(string s)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        if (neg || s.StartsWith('+')) s = s[1..];
        ulong v = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(s, CultureInfo.InvariantCulture);
        return neg ? (ulong)-(long)v : v;
    }
}
