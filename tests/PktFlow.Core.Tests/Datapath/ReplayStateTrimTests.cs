using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Socket;
using PktFlow.Netfilter.Conntrack;
using PktFlow.Topology.Lab;
using PktFlow.Wire;
using FrameBuilder = PktFlow.Testing.FrameBuilder;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// State a replay keeps per packet or per flow is forgotten by capture time when the kernel's own
/// timers would have let it go (predicted forwards, connected sockets, reassembly queues, ICMP peer
/// buckets): older than the timeout is gone, newer is kept, and results within the timeout are as before.
/// </summary>
public class ReplayStateTrimTests
{
    private const long T0 = 1_700_000_000_000_000_000, S = 1_000_000_000;
    private const string Lab = """
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        ip addr add 10.1.0.1/24 dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        sysctl -w net.ipv4.ip_forward=1
        """;
    private static readonly MacAddress Eth0 = MacAddress.Parse("02:00:00:00:01:01"), Eth1 = MacAddress.Parse("02:00:00:00:02:01"),
        Client = MacAddress.Parse("02:00:00:00:01:02"), Far = MacAddress.Parse("02:00:00:00:02:09");
    private static readonly IpAddr C4 = IpAddr.Parse("10.1.0.2"), H4 = IpAddr.Parse("10.1.0.1"), F4 = IpAddr.Parse("10.2.0.9");

    private static PacketTrace Send(DatapathEngine engine, string dev, long at, byte[] frame, long number = 1) =>
        engine.Process(new CaptureFrame(number, at, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint(dev));

    [Fact]
    public void AForwardSeenWithinTheHorizonIsRecognisedAndOneSeenLaterIsNot()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        var forwarded = Send(engine, "eth0", T0, FrameBuilder.Ethernet(Eth0, Client, 0x0800, FrameBuilder.Ipv4(C4, F4, 17, FrameBuilder.Udp(C4, F4, 5000, 53), id: 7)));
        Assert.Equal(Fate.Forwarded, forwarded.Fate);
        var copy = FrameBuilder.Ethernet(Far, Eth1, 0x0800, FrameBuilder.Ipv4(C4, F4, 17, FrameBuilder.Udp(C4, F4, 5000, 53), ttl: 63, id: 7));
        var soon = Send(engine, "eth1", T0 + 1 * S, copy, 2);
        Assert.Equal(Fate.Forwarded, soon.Fate);
        Assert.Equal("forwarded copy of frame 1", soon.Reason);
        var late = Send(engine, "eth1", T0 + 1 * S + PredictedForwards.HorizonNs + 1, copy, 3);
        Assert.Equal(Fate.Unsupported, late.Fate);
    }

    [Fact]
    public void PredictionsOlderThanTheHorizonAreForgottenAndARepeatedKeyKeepsItsNewerOne()
    {
        var p = new PredictedForwards();
        p.Add("ns/eth1", "a", 1, T0);
        p.Add("ns/eth1", "b", 2, T0 + 30 * S);
        p.Add("ns/eth1", "a", 3, T0 + 50 * S); // predicted again: the newer entry stays
        p.Add("ns/eth1", "c", 4, T0 + 91 * S); // "b" (61 s old) goes
        Assert.Equal(2, p.Count);
        Assert.True(p.TryMatch("ns/eth1", "a", T0 + 91 * S, out var frame));
        Assert.Equal(3, frame);
        Assert.False(p.TryMatch("ns/eth1", "b", T0 + 91 * S, out _));
        Assert.False(p.TryMatch("ns/eth2", "c", T0 + 91 * S, out _));
    }

    [Fact]
    public void AConnectedSocketIsKeptWhileUsedAndForgottenAfterConntracksStreamTimeout()
    {
        var engine = new DatapathEngine(LabLoader.Load(Lab, "t.lab"));
        Send(engine, "eth0", T0, FrameBuilder.Ethernet(Client, Eth0, 0x0800, FrameBuilder.Ipv4(H4, C4, 17, FrameBuilder.Udp(H4, C4, 53, 4000))));
        var answer = FrameBuilder.Ethernet(Eth0, Client, 0x0800, FrameBuilder.Ipv4(C4, H4, 17, FrameBuilder.Udp(C4, H4, 4000, 53)));
        bool ToSocket(PacketTrace t) => t.Fate == Fate.Delivered && t.Path.Any(e => e.Detail.Contains("that sent to 10.1.0.2:4000 earlier in the capture"));
        // 100 s idle, then 100 s again: each answer within 120 s of the last use finds the socket
        Assert.True(ToSocket(Send(engine, "eth0", T0 + 100 * S, answer, 2)));
        Assert.True(ToSocket(Send(engine, "eth0", T0 + 200 * S, answer, 3)));
        Assert.False(ToSocket(Send(engine, "eth0", T0 + 321 * S, answer, 4)));
    }

    [Fact]
    public void IdleSocketsAreSweptByProtocolTimeout()
    {
        var table = new ConnectedSocketTable(ConntrackSettings.Default);
        table.Add((IpProtocol.Udp, H4, 53, C4, 4000), T0);
        table.Add((IpProtocol.Tcp, H4, 80, C4, 4001), T0);
        table.Add((IpProtocol.Udp, H4, 53, C4, 4002), T0 + 121 * S); // sweeps the idle UDP socket, keeps TCP (5 days)
        Assert.Equal(2, table.Count);
        Assert.True(table.Contains((IpProtocol.Tcp, H4, 80, C4, 4001), T0 + 121 * S));
        Assert.False(table.Contains((IpProtocol.Udp, H4, 53, C4, 4000), T0 + 121 * S));
        Assert.False(table.Contains((IpProtocol.Tcp, H4, 80, C4, 4001), T0 + 121 * S + 432_001 * S));
    }

    [Fact]
    public void AFrameOutOfOrderDoesNotShortenASocketsLife()
    {
        var table = new ConnectedSocketTable(ConntrackSettings.Default);
        table.Add((IpProtocol.Udp, H4, 53, C4, 4000), T0 + 10 * S);
        table.Add((IpProtocol.Udp, H4, 53, C4, 4000), T0);
        Assert.True(table.Contains((IpProtocol.Udp, H4, 53, C4, 4000), T0 + 125 * S));
    }

    [Fact]
    public void ReassemblyQueuesOlderThanIpfragTimeAreSweptAndNewerKept()
    {
        var q = new FragmentQueues();
        var header = new byte[20];
        Assert.Null(q.Add(C4, H4, 17, 1, 0, true, header, new byte[8], T0, out _));
        Assert.Null(q.Add(C4, H4, 17, 2, 0, true, header, new byte[8], T0 + 10 * S, out _));
        Assert.Equal(2, q.Count);
        Assert.Null(q.Add(C4, H4, 17, 3, 0, true, header, new byte[8], T0 + 31 * S, out _)); // id 1 expired
        Assert.Equal(2, q.Count);
        // the one kept still completes
        Assert.NotNull(q.Add(C4, H4, 17, 2, 8, false, header, new byte[8], T0 + 32 * S, out _));
        Assert.Equal(1, q.Count);
    }

    [Fact]
    public void IcmpPeersIdleAMinuteAreForgottenOnlyWhenANewBucketIsTheSame()
    {
        var st = new IcmpRateLimit.State();
        long hz = IcmpRateLimit.Hz, now = 1000 * hz;
        IpAddr a = IpAddr.Parse("192.0.2.1"), b = IpAddr.Parse("192.0.2.2"), c = IpAddr.Parse("192.0.2.3");
        st.Peers[a] = (0, now - 60 * hz, hz);        // idle a minute, burst 6 s: a new bucket is as full
        st.Peers[b] = (0, now - 59 * hz, hz);        // used within the minute
        st.Peers[c] = (0, now - 60 * hz, 20 * hz);   // burst 120 s: a new bucket (60 s of tokens) would differ
        st.SweepPeers(now);
        Assert.Equal(new[] { b, c }, st.Peers.Keys.OrderBy(k => k.ToString()).ToArray());
    }

    [Fact]
    public void FailedNeighbourEntriesGoOnceTheTableReachesGcThresh1AndNotBefore()
    {
        var q = new PktFlow.Neighbour.NeighQueues();
        void Entry(int i, long failAt) => q.Entries[("eth1", IpAddr.Parse($"10.2.{i / 250}.{i % 250 + 1}"))] = new PktFlow.Neighbour.NeighEntry { StartNs = T0, FailAtNs = failAt };
        for (int i = 0; i < 100; i++) Entry(i, T0 + 1 * S);
        q.PeriodicWork(T0 + 20 * S, gcThresh1: 128);
        Assert.Equal(100, q.Count); // below gc_thresh1: neigh_periodic_work leaves the table alone
        for (int i = 100; i < 200; i++) Entry(i, T0 + 1 * S);
        Entry(200, T0 + 60 * S); // still INCOMPLETE (in its timer)
        q.PeriodicWork(T0 + 30 * S, gcThresh1: 128);
        Assert.Equal(201, q.Count); // the next walk is 15 s after the last
        q.PeriodicWork(T0 + 35 * S, gcThresh1: 128);
        Assert.Equal(1, q.Count);
        Assert.NotNull(q.Entry("eth1", IpAddr.Parse("10.2.0.201")));
    }

    [Fact]
    public void AnUnresolvedNeighbourPerFlowDoesNotPileUpOverALongCapture()
    {
        // every packet to a new next hop behind a veth whose peer has none of them: 3 s later each entry has failed
        const string far = """
            ip netns add far
            ip link add eth2 type veth peer name eth0 netns far
            ip addr add 10.9.255.254/16 dev eth2
            ip link set eth2 up
            ip -n far link set eth0 up
            """;
        var engine = new DatapathEngine(LabLoader.Load(Lab + "\n" + far, "t.lab"));
        for (int i = 0; i < 2000; i++)
        {
            var dst = IpAddr.Parse($"10.9.{i / 250}.{i % 250 + 1}");
            Send(engine, "eth0", T0 + i * 100_000_000L, FrameBuilder.Ethernet(Eth0, Client, 0x0800, FrameBuilder.Ipv4(C4, dst, 17, FrameBuilder.Udp(C4, dst, 5000, 53))), i + 1);
        }
        var held = engine.StateOf(engine.Topology.Namespace("host")!).NeighQueues.Count;
        Assert.InRange(held, 1, 128 + 200); // at most gc_thresh1 plus what 15 s + resolution time bring
    }

    [Fact]
    public void HashDrawsIdleLongerThanTheGenericTimeoutAreForgottenAndDecisionsAreNotKept()
    {
        const string rules = """
            nft -f - <<'NFT'
            table ip t { chain forward { type filter hook forward priority 0; policy accept; meta mark set jhash udp sport mod 4; }; }
            NFT
            """;
        var engine = new DatapathEngine(LabLoader.Load(Lab + "\n" + rules, "t.lab"));
        for (int i = 0; i < 700; i++)
        {
            ushort port = (ushort)(1024 + i);
            Send(engine, "eth0", T0 + i * S, FrameBuilder.Ethernet(Eth0, Client, 0x0800, FrameBuilder.Ipv4(C4, F4, 17, FrameBuilder.Udp(C4, F4, port, 53))), i + 1);
        }
        var nft = engine.StateOf(engine.Topology.Namespace("host")!).Nft!;
        Assert.InRange(nft.HashDrawCount, 600, 661); // one per flow of the last 600 s (+ the sweep interval), not 700
        Assert.Empty(nft.Decisions);
    }
}
