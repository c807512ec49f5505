using PktFlow.Topology.Snapshot;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>ss-connected.txt (`ss -tunHe`): the connected sockets of a namespace, as ss 6.x prints them.</summary>
public class SnapshotConnectedSocketsTests
{
    [Fact]
    public void RealSsOutputBecomesClientSockets()
    {
        using var s = new TempSnapshot();
        // `ss -tunHe` in a namespace holding a socat TCP client, a connected socat UDP client and an
        // IPv6 connection, on this machine's ss (iproute2 6.x); the TIME-WAIT line has no extras
        s.Write("pfsnap-c/ss-connected.txt", """
            udp ESTAB 0      0      10.99.0.1:5000  10.99.0.2:53   ino:2545769 sk:122 cgroup:unreachable:1 <->
            tcp ESTAB 0      0      10.99.0.1:42001 10.99.0.2:9000 ino:2545772 sk:123 cgroup:unreachable:1 <->
            tcp TIME-WAIT 0  0      10.99.0.1:42002 10.99.0.2:9000 timer:(timewait,59sec,0)
            tcp ESTAB 0      0      [2001:db8::1]:40001 [2001:db8::2]:80 uid:1000 ino:2545790 sk:124 cgroup:unreachable:1 <->
            tcp ESTAB 0      0      [::ffff:10.99.0.1]:40002 [::ffff:10.99.0.2]:80 ino:2545791 sk:125 cgroup:unreachable:1 <->
            """);
        var c = s.Load().Namespace("pfsnap-c")!;
        Assert.Equal(
        [
            "udp 10.99.0.1:5000 -> 10.99.0.2:53 (pfsnap-c/ss-connected.txt:1: ss)",
            "tcp 10.99.0.1:42001 -> 10.99.0.2:9000 (pfsnap-c/ss-connected.txt:2: ss)",
            "tcp 10.99.0.1:42002 -> 10.99.0.2:9000 (pfsnap-c/ss-connected.txt:3: ss)",
            "tcp [2001:db8::1]:40001 -> [2001:db8::2]:80 (pfsnap-c/ss-connected.txt:4: ss)",
            "tcp 10.99.0.1:40002 -> 10.99.0.2:80 (pfsnap-c/ss-connected.txt:5: ss)",
        ], c.ClientSockets.Select(x => x.ToString()));
        // a snapshot's sockets were all held at one moment: no order among them
        Assert.All(c.ClientSockets, x => Assert.Null(x.Order));
        Assert.True(c.ClientSockets[1].Sends(IpProtocol.Tcp, IpAddr.Parse("10.99.0.1"), 42001, IpAddr.Parse("10.99.0.2"), 9000));
        Assert.False(c.ClientSockets[1].Sends(IpProtocol.Tcp, IpAddr.Parse("10.99.0.3"), 42001, IpAddr.Parse("10.99.0.2"), 9000));
    }

    [Fact]
    public void ASnapshotWithoutTheFileHasNoClientSockets()
    {
        using var s = new TempSnapshot();
        Assert.All(s.Load().Namespaces, n => Assert.Empty(n.ClientSockets));
    }

    [Theory]
    [InlineData("tcp ESTAB 0 0 10.0.0.1:4000\n", "pfsnap-c/ss-connected.txt:1: expected 'tcp|udp STATE RECV-Q SEND-Q LOCAL:PORT PEER:PORT', got 'tcp ESTAB 0 0 10.0.0.1:4000'")]
    [InlineData("\nudp ESTAB 0 0 10.0.0.1:4000 10.0.0.2\n", "pfsnap-c/ss-connected.txt:2: expected a peer ADDRESS:PORT in the sixth column, got 'udp ESTAB 0 0 10.0.0.1:4000 10.0.0.2'")]
    [InlineData("raw ESTAB 0 0 10.0.0.1:1 10.0.0.2:1\n", "pfsnap-c/ss-connected.txt:1: expected 'tcp' or 'udp' first, got 'raw ESTAB 0 0 10.0.0.1:1 10.0.0.2:1'")]
    public void ABadLineNamesFileAndLine(string text, string message)
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-c/ss-connected.txt", text);
        Assert.Equal(message, Assert.Throws<SnapshotException>(s.Load).Message);
    }
}
