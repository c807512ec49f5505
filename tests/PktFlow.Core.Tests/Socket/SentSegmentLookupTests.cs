using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// Every frame a namespace sends is learned as its socket's (DatapathEngine.LearnSender); only a
/// SYN-ACK needs the listener it answers for, so no other segment or datagram may pay for a listener
/// lookup: a sender with sockets to look through allocates no more per frame than one with none.
/// </summary>
public class SentSegmentLookupTests
{
    private static string Lab(string clientSockets) => $"""
        ip netns add client
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        ip -n client addr add 10.1.0.2/24 dev eth0
        ip -n client link set eth0 up
        socat -u UDP-RECV:5000 /dev/null &
        {clientSockets}
        """;

    private static long AllocatedPerThousandFrames(string lab)
    {
        var engine = new DatapathEngine(LabLoader.Load(lab, "t.lab"));
        var at = engine.ResolveInjectionPoint("eth0");
        IpAddr c = IpAddr.Parse("10.1.0.2"), h = IpAddr.Parse("10.1.0.1");
        var frame = FrameBuilder.Ethernet(MacAddress.Parse("02:00:00:00:01:01"), MacAddress.Parse("02:00:00:00:01:02"), EtherTypes.Ipv4,
            FrameBuilder.Ipv4(c, h, IpProtocol.Udp, FrameBuilder.Udp(c, h, 40000, 5000)));
        void Run(int from, int count)
        {
            for (int i = from; i < from + count; i++)
                engine.Process(new CaptureFrame(i, i * 1_000_000L, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", at);
        }
        Run(1, 200); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(201, 1000);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void ASentDatagramLooksUpNoListener()
    {
        long none = AllocatedPerThousandFrames(Lab(""));
        long some = AllocatedPerThousandFrames(Lab("ip netns exec client socat -u UDP-RECV:9 /dev/null &\nip netns exec client socat TCP-LISTEN:80,fork SYSTEM:true &"));
        // a lookup through the sender's sockets (a boxed enumerator) would be 32 bytes or more a frame
        Assert.True(Math.Abs(some - none) < 8_000, $"sender with sockets: {some} bytes per 1000 frames, without: {none}");
    }
}
