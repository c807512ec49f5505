using System.Globalization;
using PktFlow.Datapath;

namespace PktFlow.Routing;

/// <summary>
/// A path MTU a namespace learned from an ICMP error and still holds, shaped like a line of
/// <c>ip route show cache</c> (IPv4 next-hop exceptions) or an RTF_CACHE route of <c>ip -6 route show cache</c>.
/// </summary>
public sealed record RouteCacheEntry
{
    public required string Namespace { get; init; }
    public required string Destination { get; init; }
    /// <summary>The route's next hop and device: <c>via 10.1.0.1 dev eth0</c>.</summary>
    public required string Via { get; init; }
    public int Mtu { get; init; }
    /// <summary>Clamped to net.ipv4.route.min_pmtu: no later update takes, DF is no longer set for IP_PMTUDISC_WANT.</summary>
    public bool Locked { get; init; }
    /// <summary>When it was learned, on the capture's clock.</summary>
    public DateTimeOffset Learned { get; init; }
    /// <summary>Time left at the replay's last frame (mtu_expires after it was learned).</summary>
    public TimeSpan Expires { get; init; }
    /// <summary>The entry as one line: <c>10.3.0.2 via 10.1.0.1 dev eth0 cache expires 14sec mtu 1280</c>.</summary>
    public string Line { get; init; } = "";

    public static IEnumerable<RouteCacheEntry> List(NamespaceState s, long nowNs) =>
        s.Pmtu.Valid(nowNs).OrderBy(e => e.Destination.IsV6).ThenBy(e => e.LearnedNs).Select(e => new RouteCacheEntry
        {
            Namespace = s.Name, Destination = e.Destination.ToString(), Via = e.Via, Mtu = e.Mtu, Locked = e.Locked,
            Learned = DateTimeOffset.UnixEpoch.AddTicks(e.LearnedNs / 100),
            Expires = TimeSpan.FromTicks((e.ExpiresNs - nowNs) / 100),
            Line = string.Create(CultureInfo.InvariantCulture,
                $"{e.Destination} {e.Via} cache expires {(e.ExpiresNs - nowNs + 999_999_999) / 1_000_000_000}sec mtu {(e.Locked ? "lock " : "")}{e.Mtu}"),
        });
}
