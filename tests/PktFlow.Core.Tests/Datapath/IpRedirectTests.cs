using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// ICMP redirects from a router whose route points back into the LAN a packet came from
/// (ip_rt_send_redirect's per-sender backoff, nf_nat dropping one about a NATed or not yet NATed
/// connection), and route mtu metrics. The recorded scenarios redirect-nat and route-mtu pin the
/// same behaviour against the kernel.
/// </summary>
public class IpRedirectTests
{
    internal const string Lab = """
        sysctl -w net.ipv4.ip_forward=1
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip addr add 10.1.0.1/24 dev eth0
        ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
        ip neigh add 10.1.0.3 lladdr 02:00:00:00:01:03 dev eth0 nud permanent
        ip route add 10.2.0.0/24 via 10.1.0.3
        ip route add 10.3.0.0/24 via 10.1.0.3
        ip route add 10.4.0.0/24 via 10.1.0.3 mtu lock 1300
        """;

    private const string Nat = """
        nft -f - <<'NFT'
        table ip nat {
            chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                ip daddr 10.3.0.0/24 masquerade
            }
        }
        NFT
        """;

    private static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    private const long T0 = 1_700_000_000_000_000_000, Ms = 1_000_000;

    private static PacketTrace[] Run(string lab, params (long At, byte[] Frame)[] frames)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "test.lab"));
        var at = engine.ResolveInjectionPoint("eth0");
        return frames.Select((f, i) => engine.Process(new CaptureFrame(i + 1, T0 + f.At, LinkType.Ethernet, 0, null, f.Frame.Length, f.Frame.Length, 24, f.Frame), "test.pcap", at)).ToArray();
    }

    private static byte[] Echo(string dst, ushort seq, int size = 8, bool df = false) =>
        Ether(Host, Client, 0x0800, Ipv4("10.1.0.2", dst, 1, Icmp(8, 0, (7u << 16) | seq, Bytes(size)), df: df));

    private static PacketTrace[] Redirects(PacketTrace t) => t.GeneratedTraces.Where(c => c.Summary.Contains("redirect", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void RedirectsToOneSenderBackOffExponentially()
    {
        // the first at once; the next only more than 20 ms << 1 later (10 jiffies at HZ 250), then 20 ms << 2
        var r = Run(Lab, (0, Echo("10.2.0.5", 1)), (10 * Ms, Echo("10.2.0.5", 2)), (50 * Ms, Echo("10.2.0.5", 3)), (100 * Ms, Echo("10.2.0.5", 4)));
        Assert.Equal([1, 0, 1, 0], r.Select(t => Redirects(t).Length));
        var sent = Redirects(r[0])[0];
        Assert.Equal(Fate.Transmitted, sent.Fate);
        Assert.Contains("redirect 10.2.0.5 to host 10.1.0.3", sent.Summary, StringComparison.Ordinal);
        Assert.Contains(r[1].Generated, g => g.Contains("not sent (ip_rt_send_redirect", StringComparison.Ordinal));
    }

    [Fact]
    public void NfNatDropsTheRedirectForAConnectionsFirstPacketAndForANatedOne()
    {
        var r = Run(Lab + "\n" + Nat, (0, Echo("10.2.0.5", 1)), (1000 * Ms, Echo("10.2.0.5", 2)), (2000 * Ms, Echo("10.3.0.5", 3)), (3000 * Ms, Echo("10.3.0.5", 4)));
        var fates = r.Select(t => Redirects(t).Single()).ToArray();
        Assert.Equal([Fate.Dropped, Fate.Transmitted, Fate.Dropped, Fate.Dropped], fates.Select(c => c.Fate));
        Assert.Contains(fates[0].Path, e => e.Stage == "NfNatIcmpReplyTranslation" && e.Detail!.Contains("not complete", StringComparison.Ordinal));
        Assert.Contains(fates[3].Path, e => e.Stage == "NfNatIcmpReplyTranslation" && e.Detail!.Contains("NATed", StringComparison.Ordinal));
    }

    [Fact]
    public void TheForwardedCopyLeavingTheArrivalDeviceTakesTheArrivingFramesTrace()
    {
        // a tap on eth0 sees the echo arrive and then leave again, masqueraded and one hop less: that is
        // frame 1's packet, not one the host sent from 10.1.0.1 (no second lookup, no second redirect)
        var gateway = MacAddress.Parse("02:00:00:00:01:03");
        var copy = Ether(gateway, Host, 0x0800, Ipv4("10.1.0.1", "10.3.0.5", 1, Icmp(8, 0, (7u << 16) | 1, Bytes(8)), ttl: 63));
        var r = Run(Lab + "\n" + Nat, (0, Echo("10.3.0.5", 1)), (1, copy));
        Assert.Equal(Fate.Forwarded, r[0].Fate);
        Assert.Equal((r[0].Fate, r[0].Reason, r[0].Egress), (r[1].Fate, r[1].Reason, r[1].Egress));
        Assert.Contains(r[1].Notes, n => n.Contains("the forwarded copy of frame 1", StringComparison.Ordinal));
        Assert.Empty(r[1].GeneratedTraces);
        Assert.Equal(r[0].Path.Count, r[1].Path.Count);
    }

    [Fact]
    public void WithoutNatEveryFirstPacketGetsItsRedirect()
    {
        var r = Run(Lab, (0, Echo("10.2.0.5", 1)), (1000 * Ms, Echo("10.3.0.5", 1)));
        Assert.All(r, t => Assert.Equal(Fate.Transmitted, Redirects(t).Single().Fate));
    }

    [Fact]
    public void ARouteMtuIsListedAndTakesTheDevicesPlace()
    {
        var ns = LabLoader.Load(Lab, "test.lab").Host;
        var route = ns.Routes.Single(x => x.Destination.ToString() == "10.4.0.0/24");
        Assert.Equal((1300, true), (route.Mtu, route.MtuLocked));
        Assert.Equal("10.4.0.0/24 via 10.1.0.3 dev eth0 mtu lock 1300", route.ToString());
        // DF, 1350 bytes in all: too big for the route though eth0 is 1500
        var t = Run(Lab, (0, Echo("10.4.0.5", 1, 1322, df: true)))[0];
        Assert.Equal(Fate.Dropped, t.Fate);
        Assert.Contains("ICMP 10.4.0.5 unreachable - need to frag (mtu 1300)", t.GeneratedTraces.Single(c => !c.Summary.Contains("redirect", StringComparison.Ordinal)).Summary, StringComparison.Ordinal);
    }
}
