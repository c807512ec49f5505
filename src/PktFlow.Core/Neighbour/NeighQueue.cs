using PktFlow.Datapath;
using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Neighbour;

/// <summary>
/// What became of a packet that waited for its next hop: decided after the packet, when resolution
/// fails (neigh_invalidate: NEIGH_FAILED) or a later packet pushes it out of a full queue
/// (__neigh_event_send: NEIGH_QUEUEFULL). The neighbour layer updates it as later packets arrive.
/// </summary>
public sealed class LaterFate
{
    public Fate Fate { get; internal set; }
    public string Reason { get; internal set; } = "";
    /// <summary>Capture time (ns) the fate was decided at.</summary>
    public long AtNs { get; internal set; }
    public string Detail { get; internal set; } = "";
    /// <summary>Whether the ICMP error the packet caused is sent: only a packet still queued when the entry fails is answered.</summary>
    public bool Answered { get; internal set; }
    public override string ToString() => $"{Fate} ({Reason}) at {AtNs}: {Detail}";
}

/// <summary>
/// One neighbour entry the model saw unresolved, against capture time: INCOMPLETE from the first
/// packet until (mcast_solicit + app_solicit) x retrans_time later, then FAILED; its arp_queue.
/// </summary>
public sealed class NeighEntry
{
    public long StartNs { get; internal set; }
    public long FailAtNs { get; internal set; }
    internal readonly Queue<(LaterFate Fate, int Truesize)> Queue = new();
    internal int QueueBytes;
    public int Queued => Queue.Count;
}

/// <summary>
/// The neighbour entries of one namespace that resolution could not complete, by (device, address).
/// FAILED entries go as neigh_periodic_work lets them go: it runs every base_reachable_time / 2
/// (15 s) and, once the table holds gc_thresh1 (128) entries or more, frees every FAILED one that
/// nothing references (the model's entries hold no reference once failed); below gc_thresh1 it
/// keeps them, so a small table remembers its failures as the kernel's does.
/// </summary>
public sealed class NeighQueues
{
    /// <summary>BASE_REACHABLE_TIME / 2: how often neigh_periodic_work walks the table.</summary>
    public const long GcIntervalNs = 15_000_000_000;
    /// <summary>The default gc_thresh1 (net.ipv4.neigh.default.gc_thresh1).</summary>
    public const int DefaultGcThresh1 = 128;
    private long _nextGcNs = long.MinValue;

    internal Dictionary<(string Device, IpAddr Address), NeighEntry> Entries { get; } = new();
    public NeighEntry? Entry(string device, IpAddr address) => Entries.GetValueOrDefault((device, address));
    /// <summary>Entries held (INCOMPLETE and FAILED).</summary>
    public int Count => Entries.Count;

    /// <summary>neigh_periodic_work at capture time <paramref name="nowNs"/>.</summary>
    [KernelSymbol("neigh_periodic_work", "net/core/neighbour.c")]
    public void PeriodicWork(long nowNs, int gcThresh1)
    {
        if (nowNs < _nextGcNs) return;
        _nextGcNs = nowNs + GcIntervalNs;
        if (Entries.Count < gcThresh1) return;
        List<(string, IpAddr)>? failed = null;
        foreach (var (key, e) in Entries)
            if (e.FailAtNs <= nowNs) (failed ??= []).Add(key);
        if (failed is not null) foreach (var k in failed) Entries.Remove(k);
    }
}

/// <summary>__neigh_event_send and neigh_timer_handler for a next hop that does not answer.</summary>
public static class NeighQueue
{
    /// <summary>SK_WMEM_MAX: the default unres_qlen_bytes.</summary>
    public const int DefaultQueueBytes = 212992;
    /// <summary>sizeof(struct sk_buff) and sizeof(struct skb_shared_info), cache-aligned, on x86-64: the overhead SKB_TRUESIZE adds.</summary>
    public const int SkbOverhead = 576;

    /// <summary>
    /// The packet joins the queue of its neighbour entry (a new INCOMPLETE entry, or a FAILED one that
    /// starts resolving again) and waits; older packets that no longer fit are dropped. Returns the
    /// fate it will have when resolution fails, which later packets may still change.
    /// </summary>
    [KernelSymbol("neigh_timer_handler", "net/core/neighbour.c")]
    public static LaterFate Enqueue(SkBuff skb, TraceBuilder t, NetDevice dev, IpAddr nextHop, string why)
    {
        var ns = skb.Netns;
        bool v6 = nextHop.IsV6;
        string fam = v6 ? "ipv6" : "ipv4";
        int mcast = Param(ns, fam, dev.Name, "mcast_solicit", 3), app = Param(ns, fam, dev.Name, "app_solicit", 0);
        int retransMs = Param(ns, fam, dev.Name, "retrans_time_ms", 1000);
        int limit = QueueLimit(ns, fam, dev.Name);
        var now = skb.TimestampNs;
        var queues = skb.State.NeighQueues;
        queues.PeriodicWork(now, Param(ns, fam, "default", "gc_thresh1", NeighQueues.DefaultGcThresh1));
        var key = (dev.Name, nextHop);
        string what = v6 ? "neighbour solicitation" : "ARP request";
        var fate = new LaterFate { Fate = Fate.Dropped, Reason = v6 ? "NOT_SPECIFIED" : "NEIGH_FAILED" };
        if (mcast + app == 0)
        {
            fate.AtNs = now;
            fate.Reason = "NEIGH_FAILED"; // __neigh_event_send frees it itself, for both families
            fate.Detail = $"no {what} may be sent (mcast_solicit and app_solicit are 0): dropped at once";
            t.Stage(skb, "NeighResolve", "__neigh_event_send", Verdict.Drop, $"{why}: {fate.Detail}");
            return fate;
        }
        if (!queues.Entries.TryGetValue(key, out var e) || e.FailAtNs <= now)
        {
            // neigh_invalidate has run for what waited (it kept its NEIGH_FAILED); a new packet finds
            // the entry FAILED (or none) and resolution starts again: INCOMPLETE, a probe at once and
            // one every retrans_time, until (mcast + app) probes found no answer.
            string again = e is null ? "a new INCOMPLETE entry" : $"the entry has been FAILED for {(now - e.FailAtNs) / 1_000_000} ms: resolution starts again";
            queues.Entries[key] = e = new NeighEntry { StartNs = now, FailAtNs = now + (long)(mcast + app) * retransMs * 1_000_000 };
            t.Generate($"{mcast + app} {what}(s) for {nextHop} on {dev.Name}, {retransMs} ms apart ({again})");
            // arp_solicit: the app_solicit probes go to a user-space daemon (netlink) first, then
            // the broadcasts, one per timer run; each is a child of the packet that started it.
            for (int i = 0; i < mcast; i++)
            {
                string probe = $"{what} {i + 1} of {mcast} on {dev.Name}, +{(long)(app + i) * retransMs} ms";
                if (v6) IPv6.Icmp6Send.NeighbourSolicitation(skb, t, IpAddr.ReadV6(skb.Network[8..]), nextHop, probe);
                else IPv4.ArpSend.Request(skb, t, dev, IpAddr.ReadV4(skb.Network[12..]), nextHop, probe);
            }
        }
        int truesize = skb.Network.Length + 14 + SkbOverhead;
        while (e.QueueBytes + truesize > limit && e.Queue.TryDequeue(out var old))
        {
            e.QueueBytes -= old.Truesize;
            old.Fate.Fate = Fate.Dropped;
            old.Fate.Reason = "NEIGH_QUEUEFULL";
            old.Fate.Answered = false;
            old.Fate.AtNs = now;
            old.Fate.Detail = $"pushed out of {nextHop}'s queue (unres_qlen_bytes {limit}) by frame at +{(now - e.StartNs) / 1_000_000} ms; no ICMP error";
        }
        e.Queue.Enqueue((fate, truesize));
        e.QueueBytes += truesize;
        fate.AtNs = e.FailAtNs;
        fate.Answered = true;
        fate.Detail = v6 ? $"{nextHop} never answered: dropped when the entry fails, after an ICMPv6 address unreachable"
                         : $"{nextHop} never answered: dropped when the entry fails, after an ICMP host unreachable";
        t.Stage(skb, "NeighResolve", "__neigh_event_send", Verdict.Pass,
            $"{why}: queued ({e.Queued} waiting, {e.QueueBytes} of {limit} bytes, truesize estimated as frame + {SkbOverhead}); the entry fails at +{(e.FailAtNs - e.StartNs) / 1_000_000} ms");
        return fate;
    }

    private static int Param(NetNamespace ns, string fam, string dev, string name, int dflt) =>
        int.TryParse(ns.Sysctls.Get($"net.{fam}.neigh.{dev}.{name}") ?? ns.Sysctls.Get($"net.{fam}.neigh.default.{name}"), out var v) ? v : dflt;

    // unres_qlen is stored as unres_qlen_bytes = unres_qlen * SKB_TRUESIZE(ETH_FRAME_LEN): a lab
    // that writes unres_qlen_bytes gets it, one that writes only unres_qlen gets that many full frames.
    private static int QueueLimit(NetNamespace ns, string fam, string dev)
    {
        foreach (var scope in new[] { dev, "default" })
        {
            if (int.TryParse(ns.Sysctls.Get($"net.{fam}.neigh.{scope}.unres_qlen_bytes"), out var bytes)) return bytes;
            if (int.TryParse(ns.Sysctls.Get($"net.{fam}.neigh.{scope}.unres_qlen"), out var packets)) return packets * (1536 + SkbOverhead);
        }
        return DefaultQueueBytes;
    }
}
