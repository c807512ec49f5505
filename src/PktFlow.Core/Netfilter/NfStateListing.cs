using System.Net;
using PktFlow.Datapath;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Netfilter.Nftables;
using PktFlow.Wire;

namespace PktFlow.Netfilter;

/// <summary>
/// One counter after a replay, as <c>nft list ruleset</c> / <c>iptables -L -v -n</c> would show it: a rule's
/// <c>counter</c>, a base chain's policy, a named counter, or a quota (Bytes used of Quota).
/// </summary>
public sealed record NetfilterCounter
{
    public required string Namespace { get; init; }
    public required string Family { get; init; }
    public required string Table { get; init; }
    /// <summary>The chain of a rule or policy; null for named objects.</summary>
    public string? Chain { get; init; }
    /// <summary>Rule, Policy, Counter (named object) or Quota (a rule's quota or a named one).</summary>
    public required string Kind { get; init; }
    /// <summary>The rule's handle, or the named object's.</summary>
    public int Handle { get; init; }
    /// <summary>A named object's name, or the policy ("accept"/"drop").</summary>
    public string? Name { get; init; }
    public long Packets { get; init; }
    public long Bytes { get; init; }
    /// <summary>What the ruleset itself set before any packet (<c>counter packets N bytes M</c>, a quota's <c>used</c>): Packets and Bytes minus these is what the replay counted.</summary>
    public long InitialPackets { get; init; }
    public long InitialBytes { get; init; }
    /// <summary>For a quota: its size in bytes (Bytes is what is used, capped at it as the kernel reports).</summary>
    public long? Quota { get; init; }
    /// <summary>For a quota: <c>over</c> (matches once spent) rather than until spent.</summary>
    public bool Over { get; init; }
    /// <summary>The rule's text.</summary>
    public string? Rule { get; init; }
}

/// <summary>One element of a named set after a replay (<c>nft list set</c>), with its time left at the last packet.</summary>
public sealed record NetfilterSetElement
{
    public required string Namespace { get; init; }
    public required string Family { get; init; }
    public required string Table { get; init; }
    public required string Set { get; init; }
    public required string Element { get; init; }
    /// <summary>For a map: the element's data as nft lists it after the ':' (<c>goto service-a</c>, <c>10.1.0.2 . 8080</c>, <c>0x00000010</c>); null for a set.</summary>
    public string? Data { get; init; }
    public TimeSpan? Timeout { get; init; }
    /// <summary>Time left at the last capture timestamp the namespace saw (nft's <c>expires</c>).</summary>
    public TimeSpan? Expires { get; init; }
    /// <summary>Added by a rule during the replay (add/update @set).</summary>
    public bool Dynamic { get; init; }
    /// <summary>The element's own counter (add @set { key counter }), when it has one.</summary>
    public long? Packets { get; init; }
    public long? Bytes { get; init; }
}

/// <summary>One conntrack entry after a replay, shaped like a <c>conntrack -L</c> line.</summary>
public sealed record ConntrackListing
{
    public required string Namespace { get; init; }
    /// <summary>tcp, udp, icmp, icmpv6, ...</summary>
    public required string Protocol { get; init; }
    public int ProtocolNumber { get; init; }
    /// <summary>Seconds left at the namespace's last capture timestamp.</summary>
    public long Timeout { get; init; }
    /// <summary>When the entry times out unless another packet refreshes it, on the capture's clock.</summary>
    public DateTimeOffset Expires { get; init; }
    /// <summary>The TCP state (ESTABLISHED, TIME_WAIT...); null for other protocols.</summary>
    public string? State { get; init; }
    public required string Original { get; init; }
    public required string Reply { get; init; }
    public ConntrackTuple OriginalTuple { get; init; }
    public ConntrackTuple ReplyTuple { get; init; }
    /// <summary>ASSURED and/or UNREPLIED, as conntrack -L prints them in brackets.</summary>
    public IReadOnlyList<string> Flags { get; init; } = Array.Empty<string>();
    /// <summary>All status bits (SEEN_REPLY|ASSURED|CONFIRMED|SRC_NAT|DST_NAT...).</summary>
    public string Status { get; init; } = "";
    public uint Mark { get; init; }
    public ushort Zone { get; init; }
    /// <summary>Which directions the zone applies to: both (conntrack -L zone=N), original (zone-orig=N after the original tuple) or reply (zone-reply=N).</summary>
    public string ZoneDirection { get; init; } = "both";
    /// <summary>The connection's label bits (ct label, connlabel), lowest first.</summary>
    public IReadOnlyList<int> Labels { get; init; } = Array.Empty<int>();
    /// <summary>The names connlabel.conf gives the set bits (what conntrack -L prints as labels=); bits without a name are left out.</summary>
    public IReadOnlyList<string> LabelNames { get; init; } = Array.Empty<string>();
    public int Use { get; init; } = 1;
    /// <summary>Packets and bytes (IP length) per direction, as conntrack -L prints them (packets= bytes=
    /// after each tuple) when accounting is on (net.netfilter.nf_conntrack_acct=1, or a rule reading ct
    /// bytes/packets/avgpkt) since the entry was made; null otherwise.</summary>
    public ulong? OriginalPackets { get; init; }
    public ulong? OriginalBytes { get; init; }
    public ulong? ReplyPackets { get; init; }
    public ulong? ReplyBytes { get; init; }
    /// <summary>The nft ct timeout object whose policy the entry's timeouts come from (<c>NAME (state seconds, ...)</c>),
    /// or null: the sysctls. conntrack -L does not print it.</summary>
    public string? TimeoutPolicy { get; init; }
    /// <summary>The conntrack helper assigned to the connection (helper=NAME in conntrack -L), or null.</summary>
    public string? Helper { get; init; }
    /// <summary>For a connection a helper expected (status EXPECTED): its master's original tuple; null otherwise.</summary>
    public string? Master { get; init; }
    /// <summary>The whole line as conntrack -L prints it.</summary>
    public string Line { get; init; } = "";
    public override string ToString() => Line;
}

/// <summary>One expectation after a replay, shaped like a <c>conntrack -L expect</c> line: the connection
/// a helper announced and nothing has opened yet.</summary>
public sealed record ConntrackExpectListing
{
    public required string Namespace { get; init; }
    /// <summary>Seconds left at the namespace's last capture timestamp.</summary>
    public long Timeout { get; init; }
    /// <summary>When the expectation's timer fires, on the capture's clock.</summary>
    public DateTimeOffset Expires { get; init; }
    public required string Protocol { get; init; }
    /// <summary>The expected tuple (src= dst= sport= dport=; sport 0: any, the mask does not cover it).</summary>
    public required string Tuple { get; init; }
    /// <summary>The mask (mask-src= mask-dst= sport= dport=).</summary>
    public required string Mask { get; init; }
    /// <summary>The original tuple of the connection whose helper made it.</summary>
    public required string Master { get; init; }
    public required string Helper { get; init; }
    /// <summary>The whole line as conntrack -L expect prints it.</summary>
    public string Line { get; init; } = "";
    public override string ToString() => Line;
}

/// <summary>Reads what a namespace's netfilter remembers after a replay into the listing records.</summary>
public static class NfStateListing
{
    public static IEnumerable<NetfilterCounter> Counters(string ns, NftState st, NftRuleset rs)
    {
        foreach (var t in rs.Tables)
        {
            string fam = NftNames.Family(t.Family);
            foreach (var o in t.Objects)
            {
                var v = st.PeekCounter(o);
                if (o.Kind == "counter")
                    yield return new NetfilterCounter { Namespace = ns, Family = fam, Table = t.Name, Kind = "Counter", Handle = o.Handle, Name = o.Name, Packets = v?.Packets ?? o.InitialPackets, Bytes = v?.Bytes ?? o.InitialBytes, InitialPackets = o.InitialPackets, InitialBytes = o.InitialBytes };
                else if (o.Kind == "quota") // a named limit counts nothing (its token bucket is not listed)
                    yield return new NetfilterCounter { Namespace = ns, Family = fam, Table = t.Name, Kind = "Quota", Handle = o.Handle, Name = o.Name, Bytes = Math.Min(o.QuotaBytes, st.QuotaUsed(o, o.InitialBytes)), Quota = o.QuotaBytes, Over = o.Over, InitialBytes = o.InitialBytes };
            }
            foreach (var c in t.Chains)
            {
                if (c.IsBase)
                {
                    var p = st.PeekCounter(c);
                    yield return new NetfilterCounter { Namespace = ns, Family = fam, Table = t.Name, Chain = c.Name, Kind = "Policy", Name = c.PolicyDrop ? "drop" : "accept", Packets = p?.Packets ?? 0, Bytes = p?.Bytes ?? 0 };
                }
                foreach (var r in c.Rules)
                    foreach (var stmt in r.Stmts)
                    {
                        if (stmt is CounterStmt cs)
                        {
                            var v = st.PeekCounter(cs);
                            yield return new NetfilterCounter { Namespace = ns, Family = fam, Table = t.Name, Chain = c.Name, Kind = "Rule", Handle = r.Handle, Packets = v?.Packets ?? cs.InitialPackets, Bytes = v?.Bytes ?? cs.InitialBytes, InitialPackets = cs.InitialPackets, InitialBytes = cs.InitialBytes, Rule = r.Text };
                        }
                        else if (stmt is QuotaStmt { Object: null } q)
                            yield return new NetfilterCounter { Namespace = ns, Family = fam, Table = t.Name, Chain = c.Name, Kind = "Quota", Handle = r.Handle, Bytes = Math.Min(q.Quota, st.QuotaUsed(q, q.InitialUsed)), Quota = q.Quota, Over = q.Over, InitialBytes = q.InitialUsed, Rule = r.Text };
                    }
            }
        }
    }

    public static IEnumerable<NetfilterSetElement> SetElements(string ns, NftState st, NftRuleset rs)
    {
        foreach (var t in rs.Tables)
            foreach (var set in t.Sets.OrderBy(x => x.Handle))
                foreach (var e in st.Set(set))
                {
                    if (e.ExpiresNs <= st.NowNs) continue;
                    yield return new NetfilterSetElement
                    {
                        Namespace = ns, Family = NftNames.Family(t.Family), Table = t.Name, Set = set.Name,
                        Element = Format(set.KeyTypes, e.Element), Data = set.IsMap ? FormatData(set, e.Element) : null, Dynamic = e.Dynamic,
                        Timeout = e.TimeoutNs is { } to ? TimeSpan.FromTicks(to / 100) : null,
                        Expires = e.ExpiresNs is { } ex ? TimeSpan.FromTicks((ex - st.NowNs) / 100) : null,
                        Packets = e.Counter?.Packets, Bytes = e.Counter?.Bytes,
                    };
                }
    }

    public static IEnumerable<ConntrackListing> Conntrack(NamespaceState s)
    {
        var table = s.Conntrack;
        var names = table.Settings.LabelNames;
        foreach (var e in table.Entries)
        {
            var flags = new List<string>(2);
            if (!e.SeenReply) flags.Add("UNREPLIED");
            if (e.Assured) flags.Add("ASSURED");
            yield return new ConntrackListing
            {
                Namespace = s.Name, Protocol = ConntrackProtocols.Name(e.Original.Protocol), ProtocolNumber = e.Original.Protocol,
                Timeout = e.SecondsLeft(table.NowNs), Expires = DateTimeOffset.UnixEpoch.AddTicks(e.ExpiresNs / 100), State = e.ProtocolState,
                Original = e.Original.ToString(), Reply = e.Reply.ToString(), OriginalTuple = e.Original, ReplyTuple = e.Reply,
                Flags = flags, Status = e.Status, Mark = e.Mark, Zone = e.Zone, Line = e.ToString(table.NowNs) + LabelsWord(e, names),
                ZoneDirection = e.ZoneKey.Dir switch { ConntrackZone.OriginalDirection => "original", ConntrackZone.ReplyDirection => "reply", _ => "both" },
                Labels = ConnLabelMap.Bits(e.Labels).ToArray(),
                LabelNames = names is null ? Array.Empty<string>() : ConnLabelMap.Bits(e.Labels).Select(names.Name).Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToArray(),
                OriginalPackets = e.Accounting ? e.OriginalPackets : null, OriginalBytes = e.Accounting ? e.OriginalBytes : null,
                ReplyPackets = e.Accounting ? e.ReplyPackets : null, ReplyBytes = e.Accounting ? e.ReplyBytes : null,
                TimeoutPolicy = e.TimeoutPolicy is { } tp ? $"{tp.Name} ({tp.Text})" : null,
                Helper = e.Helper?.Name, Master = e.Master?.Original.ToString(),
            };
        }
    }

    /// <summary>conntrack -L -o labels: labels=NAME,... after the line when a set bit has a name in connlabel.conf.</summary>
    private static string LabelsWord(ConntrackEntry e, ConnLabelMap? names) =>
        names?.Listing(e.Labels) is { Length: > 0 } l ? $" labels={l}" : "";

    /// <summary>The expectations of a namespace's conntrack (conntrack -L expect), oldest first.</summary>
    public static IEnumerable<ConntrackExpectListing> Expectations(NamespaceState s)
    {
        var table = s.Conntrack;
        foreach (var x in table.Expectations.OrderBy(x => x.CreatedNs))
        {
            var line = x.ToString(table.NowNs);
            int mask = line.IndexOf(" mask-src=", StringComparison.Ordinal), master = line.IndexOf(" master-src=", StringComparison.Ordinal);
            yield return new ConntrackExpectListing
            {
                Namespace = s.Name, Timeout = x.SecondsLeft(table.NowNs), Expires = DateTimeOffset.UnixEpoch.AddTicks(x.ExpiresNs / 100),
                Protocol = ConntrackProtocols.Name(x.Tuple.Protocol), Tuple = x.Tuple.ToString(),
                Mask = line[(mask + 1)..master], Master = x.Master.Original.ToString(), Helper = x.Helper.Name, Line = line,
            };
        }
    }

    /// <summary>An element's key as nft lists it: addresses, numbers, ranges, concatenations joined by " . ".</summary>
    internal static string Format(NftType[] types, NftElement e) => e.CatchAll ? "*" : string.Join(" . ", types.Select((ty, i) =>
    {
        var lo = Value(ty, e.Lo[i]); var hi = Value(ty, e.Hi[i]);
        return lo == hi ? lo : $"{lo}-{hi}";
    }));

    /// <summary>A map element's data as nft lists it: a verdict, an address, <c>address . port</c>, a mark in hex.</summary>
    internal static string FormatData(NftSet set, NftElement e) => e.Data switch
    {
        string a => a,
        IpAddr a => a.ToString(),
        NftObject o => $"\"{o.Name}\"",
        NatTarget t => t.ToString(),
        uint v when set.DataTypes is [{ Name: "mark" }] => $"0x{v:x8}",
        uint v => v.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => e.Target is { } target ? $"{(e.Verdict == NftVerdict.Jump ? "jump" : "goto")} {target}" : e.Verdict.ToString().ToLowerInvariant(),
    };

    private static string Value(NftType ty, byte[] b) => NftMapData.Format(ty, b);
}
