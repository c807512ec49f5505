using PktFlow.Judge;
using PktFlow.Socket;

namespace PktFlow.Tests.Judge;

public class SocketJudgeTests
{
    private const string Router = "10.1.0.1:9000", Client = "10.1.0.2:40004";
    // the connection's packets as ConntrackJudge.TuplesOnWire words them (client to router)
    private static readonly HashSet<string> OnWire = ["tcp src=10.1.0.2 dst=10.1.0.1 sport=40004 dport=9000", "udp src=10.1.0.2 dst=10.1.0.1 sport=40005 dport=5000"];

    private static KernelSocket Kernel(string state, string local = Router, string peer = Client, string proto = "tcp") => new("host", proto, state, local, peer);

    private static SocketListing Model(string state, string local = Router, string peer = Client, string proto = "tcp") =>
        new() { Namespace = "host", Protocol = proto, State = state, Local = local, Peer = peer };

    [Fact]
    public void AConnectionInTheSameStateAgrees()
    {
        var j = SocketJudge.Compare([Kernel("TIME_WAIT")], [Model("TIME_WAIT")], OnWire);
        Assert.Equal((1, 1, 0), (j.Connections.Agreed, j.Connections.Total, j.Differences.Count));
    }

    [Fact]
    public void AnotherStateIsADifference()
    {
        var j = SocketJudge.Compare([Kernel("TIME_WAIT")], [Model("FIN_WAIT2")], OnWire);
        Assert.Equal((0, 1), (j.Connections.Agreed, j.Connections.Total));
        Assert.Contains("state kernel TIME_WAIT, model FIN_WAIT2", j.Differences[0]);
    }

    [Fact]
    public void AKernelConnectionTheCaptureNeverSawIsNotJudged()
    {
        // the router's own connection to 10.9.9.9: none of its packets crossed the capture point
        var j = SocketJudge.Compare([Kernel("ESTABLISHED", "10.1.0.1:41000", "10.9.9.9:80")], [], OnWire, "host/eth0");
        Assert.Equal(new TableFigure(0, 0, 1), j.Connections);
        // the reason names the capture point, so a reader sees where the connection did not pass
        Assert.Contains("no packet of it crossed the capture point host/eth0 (its packets went between other devices", Assert.Single(j.NotJudged));
    }

    [Fact]
    public void AKernelConnectionOnTheCaptureTheModelLacksIsADifference()
    {
        // the wire tuple is found in either direction: the socket is the router's (local 10.1.0.1:9000)
        var j = SocketJudge.Compare([Kernel("ESTABLISHED")], [], OnWire);
        Assert.Equal(new TableFigure(0, 1, 0), j.Connections);
        Assert.Contains("not in the model's table", j.Differences[0]);
    }

    [Fact]
    public void AConnectionOnlyTheModelHasIsADifference()
    {
        var j = SocketJudge.Compare([], [Model("SYN_RECV")], OnWire);
        Assert.Equal((0, 1), (j.Connections.Agreed, j.Connections.Total));
        Assert.Contains("only in the model's table", j.Differences[0]);
    }

    [Fact]
    public void ListenersAndUdpSocketsAreFiguresOfTheirOwn()
    {
        var j = SocketJudge.Compare(
            [Kernel("LISTEN", "*:9000", "*:*"), Kernel("TIME_WAIT"), Kernel("UNCONN", "*:5000", "*:*", "udp"), Kernel("ESTABLISHED", "10.1.0.1:5000", "10.1.0.2:40005", "udp")],
            [Model("LISTEN", "*:9000", "*:*"), Model("TIME_WAIT"), Model("UNCONN", "*:5000", "*:*", "udp"), Model("ESTABLISHED", "10.1.0.1:5000", "10.1.0.2:40005", "udp")], OnWire);
        Assert.Equal((new TableFigure(1, 1, 0), new TableFigure(1, 1, 0), new TableFigure(2, 2, 0)), (j.Connections, j.Listeners, j.Udp));
        Assert.Equal((4, 4), (j.Agreed, j.Total));
    }

    [Fact]
    public void AListenerOrUnconnectedUdpSocketTheModelLacksIsAlwaysJudged()
    {
        // the lab declares its servers: one the kernel lists and the model does not know is a difference even with no packet to it
        var j = SocketJudge.Compare([Kernel("LISTEN", "*:22", "*:*"), Kernel("UNCONN", "10.1.0.1:53", "*:*", "udp")], [], OnWire);
        Assert.Equal((new TableFigure(0, 1, 0), new TableFigure(0, 1, 0)), (j.Listeners, j.Udp));
        Assert.Empty(j.NotJudged);
    }

    [Fact]
    public void AListenerOnlyTheModelHasIsADifference()
    {
        var j = SocketJudge.Compare([], [Model("LISTEN", "*:8080", "*:*")], OnWire);
        Assert.Equal(new TableFigure(0, 1, 0), j.Listeners);
        Assert.Contains("tcp LISTEN *:8080 *:*: only in the model's table", j.Differences[0]);
    }

    [Fact]
    public void AConnectedUdpSocketIsJudgedLikeAConnection()
    {
        // connected to a peer no packet on the capture came from: not judged; to one the capture shows: judged
        var j = SocketJudge.Compare(
            [Kernel("ESTABLISHED", "10.1.0.1:5000", "10.9.9.9:53", "udp"), Kernel("ESTABLISHED", "10.1.0.1:5000", "10.1.0.2:40005", "udp")],
            [Model("UNCONN", "*:5000", "*:*", "udp")], OnWire);
        Assert.Equal(new TableFigure(0, 2, 1), j.Udp);
        Assert.Contains(j.Differences, d => d.Contains("udp ESTABLISHED 10.1.0.1:5000 10.1.0.2:40005: not in the model's table"));
    }

    [Fact]
    public void AnIpv6ConnectionIsFoundOnTheWireWithoutBrackets()
    {
        var j = SocketJudge.Compare([Kernel("ESTABLISHED", "[2001:db8::1]:80", "[2001:db8::2]:40010")], [],
            new HashSet<string> { "tcp src=2001:db8::2 dst=2001:db8::1 sport=40010 dport=80" });
        Assert.Equal((1, 0), (j.Connections.Total, j.NotJudged.Count));
    }
}
