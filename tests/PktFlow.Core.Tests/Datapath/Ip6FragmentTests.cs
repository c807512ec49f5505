using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.IPv6;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Tests.Judge;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// ip6_fragment: a datagram conntrack reassembled leaves a router as fragments no larger than those
/// it arrived in (frag_max_size, at least IPV6_MIN_MTU), checked against what the kernel (6.18) sent
/// in the recorded ip6-fragment-forward scenario (host-eth1-out.pcap, host-eth2-out.pcap).
/// </summary>
public class Ip6FragmentTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "ip6-fragment-forward");
    private static readonly IpAddr Src = IpAddr.Parse("2001:db8:1::2"), Dst = IpAddr.Parse("2001:db8:2::2");

    /// <summary>A datagram: IPv6 header, <paramref name="ext"/> (extension headers), then UDP-like bytes 0,1,2...</summary>
    private static byte[] Datagram(int upper, byte next, params byte[] ext)
    {
        var body = new byte[ext.Length + upper];
        ext.CopyTo(body, 0);
        for (int i = ext.Length; i < body.Length; i++) body[i] = (byte)i;
        return FrameBuilder.Ipv6(Src, Dst, next, body);
    }

    private static int FragmentField(IpFragment.Piece p, int hlen) => BinaryPrimitives.ReadUInt16BigEndian(p.Network.AsSpan(hlen + 2));

    [Fact]
    public void ABuiltDatagramIsCutAtTheMtuInMultiplesOfEight()
    {
        var d = Datagram(2000, IpProtocol.Udp);
        var pieces = Ip6Fragment.Split(d, 1280, null, 0x1234, out bool fast);
        Assert.False(fast);
        // 1280 - 40 - 8 = 1232 per fragment
        Assert.Equal(new[] { 1280, 1280 - 1232 + 2000 - 1232 }, pieces.Select(p => p.Network.Length));
        Assert.Equal(new[] { 0, 1232 }, pieces.Select(p => p.Offset));
        Assert.Equal(new[] { 0 | 1, 1232 }, pieces.Select(p => FragmentField(p, 40)));
        Assert.All(pieces, p =>
        {
            Assert.Equal(IpProtocol.Fragment, p.Network[6]);
            Assert.Equal(IpProtocol.Udp, p.Network[40]);
            Assert.Equal(0x1234u, BinaryPrimitives.ReadUInt32BigEndian(p.Network.AsSpan(44)));
            Assert.Equal(p.Network.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(p.Network.AsSpan(4)));
        });
        Assert.Equal(d[40..], pieces.SelectMany(p => p.Network[48..]).ToArray());
    }

    [Fact]
    public void AReassembledDatagramLeavesAlongItsArrivalBoundariesNeverLargerThanFragMaxSize()
    {
        var d = Datagram(2000, IpProtocol.Udp);
        var info = new IpFragInfo(1000, false, new[] { 496, 952, 552 }) { HeaderLength = 40 };
        var pieces = Ip6Fragment.Split(d, 4000, info, 7, out bool fast);
        Assert.True(fast);
        Assert.Equal(new[] { 544, 1000, 600 }, pieces.Select(p => p.Network.Length));
        // pieces that do not fit frag_max_size (at least IPV6_MIN_MTU) are cut again at it
        info = new IpFragInfo(1400, false, new[] { 1952, 48 }) { HeaderLength = 40 };
        pieces = Ip6Fragment.Split(d, 4000, info, 7, out fast);
        Assert.False(fast);
        Assert.Equal(new[] { 1400, 40 + 8 + 2000 - 1352 }, pieces.Select(p => p.Network.Length));
    }

    [Fact]
    public void HopByHopAndDestinationOptionsBeforeTheUpperHeaderAreCopiedIntoEveryFragment()
    {
        // hop-by-hop (PadN) then destination options (PadN) then UDP
        byte[] ext = { IpProtocol.DestOpts, 0, 1, 4, 0, 0, 0, 0, IpProtocol.Udp, 0, 1, 4, 0, 0, 0, 0 };
        var d = Datagram(2000, IpProtocol.HopByHop, ext);
        Assert.Equal(56, Ip6Fragment.Unfragmentable(d, out int prevhdr));
        Assert.Equal(48, prevhdr);
        var pieces = Ip6Fragment.Split(d, 1280, null, 1, out _);
        Assert.All(pieces, p =>
        {
            Assert.Equal(ext[..8], p.Network[40..48]);
            Assert.Equal(IpProtocol.Fragment, p.Network[48]); // destination options now name the fragment header
            Assert.Equal(IpProtocol.Udp, p.Network[56]);
        });
        Assert.Equal(1280 - 56 - 8, pieces[0].PayloadLength);
        // after a routing header, destination options belong to the fragmentable part
        byte[] rt = { IpProtocol.DestOpts, 0, 0, 0, 0, 0, 0, 0, IpProtocol.Udp, 0, 1, 4, 0, 0, 0, 0 };
        Assert.Equal(48, Ip6Fragment.Unfragmentable(Datagram(100, IpProtocol.Routing, rt)));
    }

    /// <summary>
    /// The recorded scenario replayed frame by frame: what the model transmits on host/eth1 and eth2 is,
    /// byte for byte from the IPv6 header on, what the kernel sent there, except the fragment
    /// identification (ipv6_select_ident draws a new one from a keyed hash the model cannot know).
    /// </summary>
    [Fact]
    public void TheFragmentsTheModelSendsAreTheKernelsButForTheIdentification()
    {
        var (_, sent) = RecordedTransmits.Replay(Dir, "host/eth0", Src.ToString(), (ns, dev, _) => ns == "host" && dev is "eth1" or "eth2");
        int total = 0;
        foreach (var dev in new[] { "eth1", "eth2" })
        {
            var model = sent.Where(s => s.Dev == dev).Select(s => s.Frame).ToList();
            var kernel = RecordedTransmits.Kernel(Path.Combine(Dir, $"host-{dev}-out.pcap"));
            var fragments = model.Where(m => m[14 + 6] is IpProtocol.Fragment or IpProtocol.DestOpts).ToList();
            Assert.Equal(kernel.Count, fragments.Count);
            for (int i = 0; i < kernel.Count; i++)
            {
                var k = kernel[i].AsSpan(14).ToArray();
                var m = fragments[i].AsSpan(14).ToArray();
                int id = Ip6Fragment.Unfragmentable(k) + 4;
                k.AsSpan(id, 4).Clear();
                m.AsSpan(id, 4).Clear();
                Assert.True(k.AsSpan().SequenceEqual(m), $"{dev} fragment {i + 1}: kernel {Convert.ToHexString(k.AsSpan(0, 64))}, model {Convert.ToHexString(m.AsSpan(0, Math.Min(64, m.Length)))}");
            }
            total += kernel.Count;
        }
        Assert.Equal(13, total);
    }

    /// <summary>
    /// How the trace reads: the datagram conntrack reassembled is forwarded, Ip6DoFragment lists the
    /// fragments, and the trace ends with the last one in the server; fragments larger than the out
    /// MTU get packet too big (ip6_pkt_too_big weighs frag_max_size).
    /// </summary>
    [Fact]
    public void TheTraceShowsTheFragmentsAndPacketTooBigForFragmentsLargerThanTheMtu()
    {
        var record = KernelRecord.Load(Path.Combine(Dir, "kernel.json"));
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")), InjectAt = record.Wire });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        var split = Assert.Single(traces[9].Path, e => e.Stage == "Ip6DoFragment");
        Assert.Contains("3 fragments", split.Detail);
        Assert.Contains("along the boundaries it arrived in", split.Detail);
        Assert.Equal("server", traces[9].Path[^1].Namespace);
        Assert.Contains("cut at frag_max_size 1280", Assert.Single(traces[23].Path, e => e.Stage == "Ip6DoFragment").Detail);
        Assert.Equal(Fate.Dropped, traces[12].Fate);
        Assert.Equal("PKT_TOO_BIG", traces[12].Reason);
        Assert.Equal("big", traces[15].Path[^1].Namespace);
    }

    /// <summary>
    /// A packet the host builds bigger than the MTU (here the echo reply to a 2400-byte echo request
    /// that arrived in fragments) leaves as fragments cut at the MTU, as ip6_append_data and
    /// ip6_fragment cut it: 1448 data bytes per fragment for MTU 1500.
    /// </summary>
    [Fact]
    public void ABuiltReplyBiggerThanTheMtuLeavesAsFragments()
    {
        const string lab = """
            ip netns add client
            ip link add eth0 mtu 1500 address 02:00:00:00:01:01 type veth peer name eth0 mtu 1500 address 02:00:00:00:01:02 netns client
            ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
            ip link set eth0 up
            ip -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
            ip -n client -6 addr add 2001:db8:1::2/64 dev eth0 nodad
            ip -n client link set eth0 up
            """;
        var engine = new DatapathEngine(LabLoader.Load(lab, "r.lab"));
        var at = engine.ResolveInjectionPoint("eth0");
        var echo = new byte[2400];
        echo[0] = 128;
        for (int i = 8; i < echo.Length; i++) echo[i] = (byte)i;
        var host = IpAddr.Parse("2001:db8:1::1");
        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), Checksum.Transport(Src, host, IpProtocol.Icmpv6, echo));
        PacketTrace? last = null;
        for (int off = 0; off < echo.Length; off += 1200)
        {
            var fh = new byte[8 + 1200];
            fh[0] = IpProtocol.Icmpv6;
            BinaryPrimitives.WriteUInt16BigEndian(fh.AsSpan(2), (ushort)(off | (off + 1200 < echo.Length ? 1 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(fh.AsSpan(4), 9);
            echo.AsSpan(off, 1200).CopyTo(fh.AsSpan(8));
            var f = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), 0x86DD, FrameBuilder.Ipv6(Src, host, IpProtocol.Fragment, fh));
            last = engine.Process(new CaptureFrame(1, off, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", at);
        }
        var reply = Assert.Single(last!.GeneratedTraces, c => c.GeneratedBy == "icmpv6_echo_reply");
        var split = Assert.Single(reply.Path, e => e.Stage == "Ip6DoFragment");
        Assert.Contains("2440 bytes > MTU 1500: 2 fragments", split.Detail);
        Assert.Contains("1496 (offset 0, M), 1000 (offset 1448)", split.Detail);
        Assert.Equal(2, reply.Path.Count(e => e.Stage == "Ip6Fragment"));
        Assert.Equal(Fate.Delivered, reply.Fate); // reassembled by the client
        Assert.Equal("client", reply.Path[^1].Namespace);
    }

    /// <summary>
    /// route-mtu frames 16 and 19: the client (no conntrack) holds the first fragment of the router's
    /// reply. IPv4 holds it in ip_local_deliver's ip_defrag, before NF_INET_LOCAL_IN; IPv6 only in
    /// ip6_input_finish's ipv6_frag_rcv, after it (the recorder sees that fragment pass the input chain).
    /// </summary>
    [Fact]
    public void AnIpv6FragmentPassesLocalInBeforeReassemblyAnIpv4OneDoesNot()
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", "route-mtu"));
        var v4 = j.Frames.Single(f => f.Frame == 16);
        var v6 = j.Frames.Single(f => f.Frame == 19);
        Assert.True(v4.Agrees && v6.Agrees, string.Join("; ", v4.Differences.Concat(v6.Differences)));
        static int At(FrameJudgement f, Func<HookEvent, bool> what) => f.Trace.Path.ToList().FindIndex(e => e.Namespace == "client" && what(e));
        int v4Hold = At(v4, e => e.Stage == "IpDefrag"), v6Hold = At(v6, e => e.Stage == "Ipv6FragRcv");
        Assert.True(v4Hold > 0 && v6Hold > 0);
        Assert.Equal(-1, At(v4, e => e.Hook == NfHook.LocalIn));
        Assert.InRange(At(v6, e => e.Hook == NfHook.LocalIn), 0, v6Hold - 1);
        Assert.All(new[] { v4, v6 }, f => Assert.Equal(Fate.Consumed, f.Trace.Fate));
    }
}
