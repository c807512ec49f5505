using PktFlow.Judge;
using PktFlow.Socket;

namespace PktFlow.Tests.Judge;

public class SocketJudgeTests
{
    private const string Router = "10.1.0.1:9000", Client = "10.1.0.2:40004";
    // the connection's packets as ConntrackJudge.TuplesOnWire words them (client to router)
    private static readonly HashSet<string> OnWire = ["tcp src=10.1.0.2 dst=10.1.0.1 sport=40004 dport=9000"];

    private static KernelSocket Kernel(string state, string local = Router, string peer = Client, string proto = "tcp") => new("host", proto, state, local, peer);

    private static SocketListing Model(string state, string local = Router, string peer = Client) =>
        new() { Namespace = "host", State = state, Local = local, Peer = peer };

    [Fact]
    public void AConnectionInTheSameStateAgrees()
    {
        var j = SocketJudge.Compare([Kernel("TIME_WAIT")], [Model("TIME_WAIT")], OnWire);
        Assert.Equal((1, 1, 0), (j.Agreed, j.Total, j.Differences.Count));
    }

    [Fact]
    public void AnotherStateIsADifference()
    {
        var j = SocketJudge.Compare([Kernel("TIME_WAIT")], [Model("FIN_WAIT2")], OnWire);
        Assert.Equal((0, 1), (j.Agreed, j.Total));
        Assert.Contains("state kernel TIME_WAIT, model FIN_WAIT2", j.Differences[0]);
    }

    [Fact]
    public void AKernelConnectionTheCaptureNeverSawIsNotJudged()
    {
        // the router's own connection to 10.9.9.9: none of its packets crossed the capture point
        var j = SocketJudge.Compare([Kernel("ESTABLISHED", "10.1.0.1:41000", "10.9.9.9:80")], [], OnWire);
        Assert.Equal((0, 0, 1), (j.Agreed, j.Total, j.NotJudged.Count));
    }

    [Fact]
    public void AKernelConnectionOnTheCaptureTheModelLacksIsADifference()
    {
        // the wire tuple is found in either direction: the socket is the router's (local 10.1.0.1:9000)
        var j = SocketJudge.Compare([Kernel("ESTABLISHED")], [], OnWire);
        Assert.Equal((0, 1, 0), (j.Agreed, j.Total, j.NotJudged.Count));
        Assert.Contains("not in the model's table", j.Differences[0]);
    }

    [Fact]
    public void AConnectionOnlyTheModelHasIsADifference()
    {
        var j = SocketJudge.Compare([], [Model("SYN_RECV")], OnWire);
        Assert.Equal((0, 1), (j.Agreed, j.Total));
        Assert.Contains("only in the model's table", j.Differences[0]);
    }

    [Fact]
    public void ListenersAndUdpSocketsAreNotJudged()
    {
        var j = SocketJudge.Compare(
            [Kernel("LISTEN", "*:9000", "*:*"), Kernel("UNCONN", "*:5000", "*:*", "udp"), Kernel("ESTABLISHED", "10.1.0.1:5000", "10.1.0.2:5001", "udp")],
            [Model("LISTEN", "*:9000", "*:*")], OnWire);
        Assert.Equal((0, 0, 0, 0), (j.Agreed, j.Total, j.Differences.Count, j.NotJudged.Count));
    }

    [Fact]
    public void AnIpv6ConnectionIsFoundOnTheWireWithoutBrackets()
    {
        var j = SocketJudge.Compare([Kernel("ESTABLISHED", "[2001:db8::1]:80", "[2001:db8::2]:40010")], [],
            new HashSet<string> { "tcp src=2001:db8::2 dst=2001:db8::1 sport=40010 dport=80" });
        Assert.Equal((1, 0), (j.Total, j.NotJudged.Count));
    }
}
