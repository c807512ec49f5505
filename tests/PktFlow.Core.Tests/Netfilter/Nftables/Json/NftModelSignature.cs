using PktFlow.Netfilter.Nftables;

namespace PktFlow.Tests.Netfilter.Nftables.Json;

/// <summary>
/// A ruleset as lines that two loads must share to be the same model: tables, chains (hook, type,
/// priority, policy, device, handle), sets (type, flags, elements as bytes), and each rule's handle,
/// comment and compiled statements (selectors, operators, values, set elements, verdicts, NAT).
/// </summary>
internal static class NftModelSignature
{
    public static List<string> Of(NftRuleset rs)
    {
        var o = new List<string>();
        foreach (var t in rs.Tables)
        {
            o.Add($"{t} handle {t.Handle}");
            foreach (var ob in t.Objects)
                o.Add($"  {ob.Kind} {ob.Name} handle {ob.Handle} packets {ob.InitialPackets} bytes {ob.InitialBytes} quota {ob.QuotaBytes} over {ob.Over}");
            // nft 1.0.6 leaves "dynamic" out of a set's JSON flags; it only picks the set backend
            foreach (var s in t.Sets.OrderBy(s => s.Name, StringComparer.Ordinal))
                o.Add($"  {(s.IsMap ? $"map : {s.DataText}" : "set")} {s.Name} handle {s.Handle} type {s.TypeText} flags {string.Join(",", s.Flags.Where(f => f != "dynamic"))} timeout {s.TimeoutNs} {{ {Elements(s.Elements)} }}");
            foreach (var c in t.Chains)
            {
                o.Add($"  chain {c.Name} handle {c.Handle} hook {c.Hook} type {c.Type} prio {c.Priority} drop {c.PolicyDrop} dev {c.Device}");
                foreach (var r in c.Rules)
                    o.Add($"    #{r.Handle} comment={r.Comment} unsupported={r.Unsupported is not null} counter={r.HasCounter}: {string.Join(" ; ", r.Stmts.Select(Stmt))}");
            }
        }
        return o;
    }

    private static string Hex(byte[]? b) => b is null ? "-" : Convert.ToHexString(b);

    // Membership does not depend on order (nft lists elements sorted).
    private static string Elements(IEnumerable<NftElement> els) =>
        string.Join(", ", els.Select(e => (e.CatchAll ? "*" : string.Join(".", e.Lo.Zip(e.Hi, (l, h) => $"{Hex(l)}-{Hex(h)}"))) + (e.Verdict != NftVerdict.None ? $":{e.Verdict} {e.Target}" : "") + (e.Data is string or NatTarget or uint or NftObject ? $":{e.Data}" : "")).Order(StringComparer.Ordinal));

    // a payload write is described by where it goes, not its name: nft lists a raw write it can name by the
    // field (`@th,16,16 set` after `th dport 7000` comes back as `th dport set`), the same write
    /// <summary>A value's expression with the nft_bitwise steps after it.</summary>
    private static string Sel(NftSelector? s) => s is BitwiseSelector b
        ? $"{b.Inner.Text}{string.Concat(b.Steps.Select(x => x.Op == BitwiseOp.Bool ? $" & {Hex(x.Mask)} ^ {Hex(x.Xor)}" : $" {x.Op} {x.Bits}"))}"
        : s?.Text ?? "";

    private static string Map(NftMapLookup? m) => m is null ? "" : $"{Sel(m.Key)} map {(m.Set is { } set ? "@" + set.Name : $"{{ {Elements(m.Elements!)} }}")}";

    private static string Stmt(NftStmt s) => s switch
    {
        MatchStmt m => $"match {m.Sel.Text} [{string.Join(",", m.Widths)}] mask {Hex(m.Mask)}{(m.Xor is null ? "" : $" xor {Hex(m.Xor)}")} {m.Op} {Hex(m.Value)} {Hex(m.Lo)}-{Hex(m.Hi)} vmap={m.Vmap} set={m.Set?.Name} {{ {(m.Elements is null ? "" : Elements(m.Elements))} }}",
        VerdictStmt v => $"verdict {v.Verdict} {v.Target} reject={v.Reject} nat={(v.Nat is null ? "-" : $"{v.Nat.Kind} {v.Nat.AddressMin}-{v.Nat.AddressMax} {v.Nat.PortMin}-{v.Nat.PortMax}{(v.Nat.Netmap ? " netmap" : "")}")}",
        RejectStmt r => $"reject {r.Desc}",
        SetMarkStmt sm => $"mark ct={sm.Ct} {sm.Value} from {Sel(sm.Source)} {Map(sm.Map)}",
        PayloadSetStmt ps => $"payload set {ps.Field.Base}+{ps.Field.Offset}/{ps.Field.Width} >>{ps.Field.Shift} &{ps.Field.Mask:x} @{ps.WriteOffset}+{ps.WriteWidth} csum {ps.CsumOffset} pseudo={ps.PseudoHeader} inner={ps.Inner} {Hex(ps.Constant)} {ps.Value} from {Sel(ps.Source)} {Map(ps.Map)}",
        NatMapStmt n => $"nat {n.Kind} {n.AddressMin}-{n.AddressMax} {Map(n.Map)} {n.PortMin}-{n.PortMax} {Map(n.PortMap)} {string.Join(",", n.Flags)}{(n.Netmap ? " netmap" : "")}",
        FibPresentStmt f => $"fib {f.Sel.Text} present={f.Present}",
        LimitStmt l => $"limit bytes={l.Bytes} over={l.Over} rate {l.Rate}/{l.UnitSeconds}s max {l.TokensMax}",
        QuotaStmt q => $"quota {q.Object?.Name} over={q.Over} {q.Quota} used {q.InitialUsed}",
        CounterStmt c => $"counter {c.InitialPackets} {c.InitialBytes}",
        ObjCounterStmt c => $"counter {c.Object.Name}",
        DynsetStmt d => $"{d.Op} @{d.Set.Name} {{ {d.Key.Text} : {(d.Data?.Data is NftSelector sel ? sel.Text : d.Data?.Data)} {d.Data?.Verdict} timeout {d.TimeoutNs} {string.Join(" ", d.ElementStmts.Select(Stmt))} }}",
        ObjrefMapStmt m => $"objref {Map(m.Map)}",
        LogStmt l => "log", // nft -j leaves out defaults (level warn), the text keeps what was written
        _ => s.GetType().Name,
    };
}
