using PktFlow.Capture;
using PktFlow.Netfilter;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;

namespace PktFlow.Judge;

/// <summary>The model's conntrack entries against the kernel's: how many agree, and what differs.</summary>
/// <param name="Differences">One line per entry that is only on one side or differs in reply tuple, TCP state, flags, mark, accounting or timeout.</param>
/// <param name="Agreed">Entries present on both sides with the same original and reply tuples, zone (and its direction), TCP state, [ASSURED]/[UNREPLIED], mark, labels and packets/bytes (where listed).</param>
/// <param name="Total">Entries judged on either side (matched pairs counted once).</param>
/// <param name="NotJudged">Kernel entries left out: no packet of the connection crossed the capture point, so no replay of the capture can know of it.</param>
public sealed record ConntrackJudgement(IReadOnlyList<string> Differences, int Agreed, int Total, IReadOnlyList<string> NotJudged)
{
    public static readonly ConntrackJudgement Empty = new(Array.Empty<string>(), 0, 0, Array.Empty<string>());

    public override string ToString() => $"conntrack {Agreed}/{Total} entries agree{(NotJudged.Count > 0 ? $", {NotJudged.Count} not judged" : "")}";
}

/// <summary>
/// Compares <c>conntrack -L</c> as the kernel printed it after the traffic with the model's table after
/// the replay (Get-PktFlowConntrack), namespace by namespace, keyed by zone, protocol and original tuple.
/// The kernel listed its table some seconds after the capture ended, so the model's table is aged to
/// that moment when the recording kept it: entries that expired in between are gone, and timeouts are
/// compared (to a second: the kernel counts in jiffies and truncates, the listing took a moment).
/// Older recordings keep neither the moment nor the timeouts: there timeouts are not compared.
/// A kernel entry the model lacks is judged only when the capture holds a packet of that connection (in
/// either direction, before or after NAT): the kernel also tracks packets that never pass the capture
/// point (traffic between other devices, the IGMPv3 report a bridge sends when it comes up and joins
/// 224.0.0.106, before the capture starts), and a replay of the capture cannot know of them. Those are listed as not judged.
/// </summary>
public static class ConntrackJudge
{
    /// <param name="capturePoint">"ns/dev" of the capture, named in the reason an entry is not judged.</param>
    public static ConntrackJudgement Compare(IEnumerable<KernelConntrack> kernel, IEnumerable<ConntrackListing> model, IReadOnlySet<string>? onWire = null,
        IReadOnlyDictionary<string, long>? listedNs = null, string? capturePoint = null)
    {
        listedNs ??= new Dictionary<string, long>();
        var k = kernel.ToDictionary(e => (e.Namespace, e.Zone, e.ZoneDirection, e.Proto, e.Original));
        // what the kernel still held when it listed: an entry that timed out after the capture is gone
        model = model.Where(e => !listedNs.TryGetValue(e.Namespace, out var at) || NsOf(e.Expires) > at);
        var m = model.GroupBy(e => (e.Namespace, (int)e.Zone, e.Zone == 0 ? "both" : e.ZoneDirection, e.Protocol, e.Original)).ToDictionary(g => g.Key, g => g.First());
        var diffs = new List<string>();
        var notJudged = new List<string>();
        int agreed = 0;
        foreach (var (key, ke) in k)
        {
            if (!m.TryGetValue(key, out var me))
            {
                if (onWire is not null && !onWire.Contains($"{ke.Proto} {ke.Original}") && !onWire.Contains($"{ke.Proto} {ke.Reply}"))
                    notJudged.Add($"{ke}: {OffTheCapture(capturePoint)}");
                else diffs.Add($"{ke}: not in the model's table");
                continue;
            }
            var d = new List<string>();
            if (ke.Reply != me.Reply) d.Add($"reply kernel {ke.Reply}, model {me.Reply}");
            if (ke.State != me.State) d.Add($"state kernel {ke.State}, model {me.State}");
            var kf = string.Join(",", ke.Flags.Order()); var mf = string.Join(",", me.Flags.Order());
            if (kf != mf) d.Add($"flags kernel [{kf}], model [{mf}]");
            if (ke.Mark != me.Mark) d.Add($"mark kernel {ke.Mark}, model {me.Mark}");
            var kl = string.Join(",", ke.Labels ?? []); var ml = string.Join(",", me.LabelNames);
            if (kl != ml) d.Add($"labels kernel [{kl}], model [{ml}]");
            if (ke.Helper != me.Helper) d.Add($"helper kernel {ke.Helper ?? "none"}, model {me.Helper ?? "none"}");
            var ma = me.OriginalPackets is { } op ? new KernelCtAcct(op, me.OriginalBytes ?? 0, me.ReplyPackets ?? 0, me.ReplyBytes ?? 0) : null;
            if (ke.Acct != ma) d.Add($"accounting kernel {(object?)ke.Acct ?? "none"}, model {(object?)ma ?? "none"}");
            if (ke.Timeout is { } kt && listedNs.TryGetValue(ke.Namespace, out var listed)
                && (NsOf(me.Expires) - listed) / 1_000_000_000 is var mt && Math.Abs(mt - kt) > 1)
                d.Add($"timeout kernel {kt} s, model {mt} s when the kernel listed its table");
            if (d.Count == 0) agreed++;
            else diffs.Add($"{ke}: {string.Join("; ", d)}");
        }
        foreach (var (key, me) in m)
            if (!k.ContainsKey(key)) diffs.Add($"{me.Namespace}: {me.Line}: only in the model's table");
        return new ConntrackJudgement(diffs, agreed, k.Count - notJudged.Count + m.Keys.Count(x => !k.ContainsKey(x)), notJudged);
    }

    /// <summary>Why a kernel connection is not judged: the capture never showed it, so its replay cannot make it.</summary>
    internal static string OffTheCapture(string? capturePoint) =>
        $"no packet of it crossed the capture point{(capturePoint is null ? "" : $" {capturePoint}")} (its packets went between other devices, or before the capture), so no replay of the capture can know of it";

    private static long NsOf(DateTimeOffset t) => (t - DateTimeOffset.UnixEpoch).Ticks * 100;

    /// <summary>
    /// conntrack -L expect against the model's expectations, namespace by namespace, keyed by the line
    /// without its timeout (tuple, mask, master, class, helper); timeouts agree to a second at the moment
    /// the kernel listed its table (the model's expectations aged to it, as entries are).
    /// </summary>
    public static ConntrackJudgement CompareExpectations(IEnumerable<(string Namespace, string Line)> kernel, IEnumerable<ConntrackExpectListing> model,
        IReadOnlyDictionary<string, long>? listedNs = null)
    {
        listedNs ??= new Dictionary<string, long>();
        static string Key(string line) => line[(line.IndexOf(' ') + 1)..];
        var k = kernel.ToDictionary(x => (x.Namespace, Key(x.Line)), x => long.TryParse(x.Line.Split(' ')[0], out var t) ? t : -1);
        var m = model.Where(e => !listedNs.TryGetValue(e.Namespace, out var at) || NsOf(e.Expires) > at)
            .ToDictionary(x => (x.Namespace, Key(x.Line)));
        var diffs = new List<string>();
        int agreed = 0;
        foreach (var ((ns, key), kt) in k)
        {
            if (!m.TryGetValue((ns, key), out var me)) { diffs.Add($"{ns}: expect {key}: not among the model's expectations"); continue; }
            if (listedNs.TryGetValue(ns, out var listed) && (NsOf(me.Expires) - listed) / 1_000_000_000 is var mt && Math.Abs(mt - kt) > 1)
                diffs.Add($"{ns}: expect {key}: timeout kernel {kt} s, model {mt} s when the kernel listed its table");
            else agreed++;
        }
        foreach (var ((ns, key), _) in m)
            if (!k.ContainsKey((ns, key))) diffs.Add($"{ns}: expect {key}: only among the model's expectations");
        return new ConntrackJudgement(diffs, agreed, k.Count + m.Keys.Count(x => !k.ContainsKey(x)), Array.Empty<string>());
    }

    /// <summary>
    /// Every conntrack tuple a packet of the capture carries, and its inverse (the other direction of
    /// the same connection), as "proto tuple" in conntrack -L's words.
    /// </summary>
    public static HashSet<string> TuplesOnWire(string capturePath)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        using var reader = CaptureReader.Open(capturePath);
        while (true)
        {
            var s = reader.Read(out var frame, out _);
            if (s == CaptureReadStatus.End) break;
            if (s != CaptureReadStatus.Frame) continue;
            var data = frame.Data.Span;
            if (!LinkLayer.TryDecode(frame.LinkType, data, out var link, out _)) continue;
            ushort type = link.EtherType;
            var l3 = data[link.NetworkOffset..];
            if (link.IsEthernet)
            {
                if (!EthernetFrame.TryParse(data, out var eth, out _)) continue;
                type = eth.EtherType;
                l3 = eth.Payload;
            }
            if (type is not (EtherTypes.Ipv4 or EtherTypes.Ipv6) || !ConntrackTable.TryTupleAnyProtocol(l3, type == EtherTypes.Ipv6, out var t)) continue;
            string proto = ConntrackProtocols.Name(t.Protocol);
            set.Add($"{proto} {t}");
            set.Add($"{proto} {ConntrackEntry.Invert(t)}");
        }
        return set;
    }
}
