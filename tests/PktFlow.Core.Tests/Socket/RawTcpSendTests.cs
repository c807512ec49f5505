using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Socket;

/// <summary>
/// A SYN sendframe crafts on a packet socket is no connect(): the kernel's ss -tan lists no SYN_SENT
/// for it (recorded in nat-core-kept, ipt-nft-nat-core-kept, tc-ingress-mirred, tc-bpf-da, whose
/// crafted SYNs are dropped), while socat's real connect in the same script is a socket. The model
/// used to open a SYN_SENT socket for every SYN a namespace sent (now RawFrame); nft-payload-set builds
/// its frames in a bash array, which the lab shell expands.
/// </summary>
public class RawTcpSendTests
{
    [Theory]
    [InlineData("nat-core-kept", 1)]       // socat's connect to 2180 answered; the crafted SYNs to 2181 and 2182 dropped
    [InlineData("ipt-nft-nat-core-kept", 2)]
    [InlineData("tc-ingress-mirred", 0)]   // two crafted SYNs dropped at eth0's ingress, nothing else
    [InlineData("nft-payload-set", 0)]     // the SYNs gathered in a bash array ("${F[@]}"), answered with RSTs but one
    public void ACraftedSynOpensNoSocket(string scenario, int connections)
    {
        var j = ScenarioJudge.Judge(Path.Combine(RepoPaths.Root, "tests", "scenarios", scenario));
        Assert.Empty(j.Sockets.Differences.Where(d => d.Contains("tcp", StringComparison.Ordinal)));
        Assert.Equal((connections, connections), (j.Sockets.Connections.Agreed, j.Sockets.Connections.Total));
    }
}
