using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.IPv6;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// ICMPv6 rate limiting (icmpv6_mask_allow, icmpv6_global_allow, icmpv6_xrlim_allow) on a host with
/// one UDP socket, frames sent at chosen capture times. The recorded scenario icmp6-ratelimit pins
/// the same rules against the kernel (GeneratedPacketTests).
/// </summary>
public class Icmp6RateLimitTests
{
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip -6 addr add 2001:db8:1::1/64 dev eth0
        ip -6 route add default via 2001:db8:1::2
        socat -u UDP6-RECV:5353 /dev/null &
        """;

    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    private const long T0 = 1_700_000_000_000_000_000, Ms = 1_000_000;

    /// <summary>Sends each frame at its time (ns after T0); per frame, how many packets the host generated in answer.</summary>
    private static (int Sent, List<string> Notes)[] Run(string sysctls, params (long At, byte[] Frame)[] frames)
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab + "\n" + sysctls, "test.lab"));
        var at = engine.ResolveInjectionPoint("eth0");
        return frames.Select((f, i) =>
        {
            var cf = new CaptureFrame(i + 1, T0 + f.At, LinkType.Ethernet, 0, null, f.Frame.Length, f.Frame.Length, 24, f.Frame);
            var t = engine.Process(cf, "test.pcap", at);
            return (t.GeneratedTraces.Count, t.Generated.ToList());
        }).ToArray();
    }

    private static byte[] ClosedPort(string src = "2001:db8:1::2", ushort sport = 40000) =>
        Ether(Host, Client, 0x86DD, Ipv6(src, "2001:db8:1::1", 17, Udp(src, "2001:db8:1::1", sport, 9, Ascii("rate"))));

    private static byte[] Echo(ushort seq) =>
        Ether(Host, Client, 0x86DD, Ipv6("2001:db8:1::2", "2001:db8:1::1", 58, Icmpv6("2001:db8:1::2", "2001:db8:1::1", 128, 0, (7u << 16) | seq, Ascii("echo"))));

    private static (long, byte[])[] Burst(int n, Func<int, byte[]> frame, long start = 0, long gap = 0) =>
        Enumerable.Range(0, n).Select(i => (start + i * gap, frame(i))).ToArray();

    [Theory]
    [InlineData(null, 1, false)]
    [InlineData(null, 2, true)]        // packet too big: not in the default mask
    [InlineData(null, 3, false)]
    [InlineData(null, 129, true)]      // echo reply
    [InlineData("2-3,129", 1, true)]
    [InlineData("2-3,129", 2, false)]
    [InlineData("2-3,129", 129, false)]
    [InlineData("0-255", 255, false)]
    [InlineData("", 1, true)]          // an empty mask limits nothing
    public void TheRatemaskSaysWhichTypesAreLimited(string? mask, byte type, bool unlimited) =>
        Assert.Equal(unlimited, Icmp6RateLimit.MaskAllow(mask, type));

    [Fact]
    public void ABurstGetsSixAnswersThenOneAHundredMillisecondsByDefault()
    {
        // net.ipv6.icmp.ratelimit defaults to 100 ms (25 jiffies), burst 6: eight at once, then one 100 ms later
        var r = Run("", [.. Burst(8, i => ClosedPort(sport: (ushort)(40000 + i))), (100 * Ms, ClosedPort(sport: 40100))]);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0, 0, 1], r.Select(x => x.Sent));
        Assert.Contains(r[6].Notes, n => n.Contains("not sent (inet_peer_xrlim_allow: the token bucket for 2001:db8:1::2 is empty (net.ipv6.icmp.ratelimit 100 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void TheRouteBacksPrefixDoesNotScaleTheInterval()
    {
        // 2001:db8:99::5 is behind the default route (/0): before upstream 0201eedb69b2 its interval was 1000 ms >> 4
        var r = Run("sysctl -w net.ipv6.icmp.ratelimit=1000", [.. Burst(6, i => ClosedPort("2001:db8:99::5", (ushort)(40000 + i))), (200 * Ms, ClosedPort("2001:db8:99::5", 40100))]);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0], r.Select(x => x.Sent));
    }

    [Fact]
    public void EachDestinationHasItsOwnBucket()
    {
        var r = Run("", [.. Burst(7, i => ClosedPort(sport: (ushort)(40000 + i))), (0, ClosedPort("2001:db8:1::3"))]);
        Assert.Equal([1, 1, 1, 1, 1, 1, 0, 1], r.Select(x => x.Sent));
    }

    [Fact]
    public void RatelimitZeroNeverHoldsBack()
    {
        var r = Run("sysctl -w net.ipv6.icmp.ratelimit=0", Burst(10, i => ClosedPort(sport: (ushort)(40000 + i))));
        Assert.All(r, x => Assert.Equal(1, x.Sent));
    }

    [Fact]
    public void EchoRepliesAreLimitedOnlyWhenTheMaskHas129()
    {
        Assert.All(Run("", Burst(8, i => Echo((ushort)i))), x => Assert.Equal(1, x.Sent));
        var r = Run("sysctl -w net.ipv6.icmp.ratemask=129", Burst(8, i => Echo((ushort)i)));
        Assert.Equal([1, 1, 1, 1, 1, 1, 0, 0], r.Select(x => x.Sent));
        // and with 129 as the only type, port unreachables are not limited any more
        Assert.All(Run("sysctl -w net.ipv6.icmp.ratemask=129", Burst(8, i => ClosedPort(sport: (ushort)(40000 + i)))), x => Assert.Equal(1, x.Sent));
    }

    [Fact]
    public void NoGlobalCreditMeansNoLimitedMessageButEchoRepliesStillGo()
    {
        var r = Run("sysctl -w net.ipv4.icmp_msgs_per_sec=0", [(0, ClosedPort()), (10 * Ms, Echo(1))]);
        Assert.Equal(0, r[0].Sent);
        Assert.Contains(r[0].Notes, n => n.Contains("not sent (icmp_global_allow: the namespace's ICMP credit is used up (net.ipv4.icmp_msgs_per_sec 0", StringComparison.Ordinal));
        Assert.Equal(1, r[1].Sent);
    }

    [Fact]
    public void NoBucketWhenTheRouteBackIsLocal()
    {
        // icmpv6_xrlim_allow: a route back whose device is loopback (a local address) is not limited
        var r = Run("ip -6 addr add 2001:db8:5::1/128 dev lo", Burst(8, i => ClosedPort("2001:db8:5::1", (ushort)(40000 + i))));
        Assert.All(r, x => Assert.DoesNotContain(x.Notes, n => n.Contains("not sent", StringComparison.Ordinal)));
        Assert.All(r, x => Assert.Equal(1, x.Sent));
    }

    [Fact]
    public void TheGlobalBurstBindsAcrossDestinations()
    {
        // icmp_msgs_burst 3 (per_sec 1000 refills 20 ms later at the earliest): six destinations at once,
        // one message each; the model follows one credit a message and says when the draw decided
        var r = Run("sysctl -w net.ipv4.icmp_msgs_burst=3", Burst(6, i => ClosedPort($"2001:db8:1::{i + 10:x}")));
        Assert.Equal([1, 1, 1, 0, 0, 0], r.Select(x => x.Sent));
        Assert.Contains(r[3].Notes, n => n.Contains("icmp_global_allow", StringComparison.Ordinal));
    }
}
