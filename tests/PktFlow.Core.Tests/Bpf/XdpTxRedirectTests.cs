using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// XDP_TX and XDP_REDIRECT in generic XDP (do_xdp_generic: generic_xdp_tx, xdp_do_generic_redirect),
/// judged against the kernel in tests/scenarios/xdp-tx-reflector and xdp-redirect-veth.
/// </summary>
public class XdpTxRedirectTests(ITestOutputHelper output)
{
    private static string Dir(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    [Theory]
    [InlineData("xdp-tx-reflector")]
    [InlineData("xdp-redirect-veth")]
    public void TheRecordedScenarioAgreesWhollyWithTheKernel(string scenario)
    {
        var j = ScenarioJudge.Judge(Dir(scenario));
        foreach (var f in j.Frames.Where(f => !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 10);
        Assert.Equal(j.Judged, j.Agreed);
    }

    private static string Walk(PacketTrace t) => string.Join(" ", t.Path.Select(e => $"{e.Namespace}/{e.Function}"));

    [Fact]
    public void TheReflectedPingLeavesByGenericXdpTxAndReachesTheClient()
    {
        var j = ScenarioJudge.Judge(Dir("xdp-tx-reflector"));
        var t = j.Frames.Single(f => f.Frame == 1).Trace;
        output.WriteLine(Walk(t));
        var xdp = t.Path.Single(e => e.Function == "netif_receive_generic_xdp");
        Assert.Equal(("host", Verdict.Stolen), (xdp.Namespace, xdp.Verdict));
        Assert.Contains("XDP_TX, the program rewrote the frame (98 -> 98 bytes)", xdp.Detail);
        // past the host's hooks and taps: straight from generic_xdp_tx to the veth, then the client's receive
        int tx = t.Path.ToList().FindIndex(e => e.Function == "generic_xdp_tx");
        Assert.Equal("veth_xmit", t.Path[tx + 1].Function);
        Assert.DoesNotContain(t.Path, e => e.Namespace == "host" && e.Hook is not null);
        Assert.Equal("client", t.Path[^1].Namespace);
        Assert.Equal(Fate.Delivered, t.Fate);
        Assert.Contains("-> (host) eth0 -> XDP_TX -> eth0 (veth) -> (client) eth0 -> ip_rcv", PktFlow.Render.NamespaceColumns.Line(t));
    }

    [Theory]
    [InlineData(1, null, "XDP_REDIRECT to eth1 (bpf_redirect, ifindex 3)")]
    [InlineData(3, null, "XDP_REDIRECT to eth1")]                           // 1018 bytes: MTU 1000 + 14 + VLAN_HLEN
    [InlineData(5, "XDP", "1019-byte frame, eth1 takes at most 1018")]
    [InlineData(6, "XDP", "eth2 is down (-ENETDOWN)")]
    [InlineData(7, "XDP", "bpf_redirect to ifindex 42: no such device in host (-EINVAL)")]
    [InlineData(8, "NOT_SPECIFIED", "XDP_ABORTED")]                        // bpf_redirect with flags
    [InlineData(11, "NOT_SPECIFIED", "XDP_ABORTED")]                       // devmap miss, fallback 0
    [InlineData(12, "NOT_SPECIFIED", "XDP_DROP")]                          // devmap_hash miss, fallback XDP_DROP
    public void RedirectsAndTheirFailures(int frame, string? reason, string text)
    {
        var j = ScenarioJudge.Judge(Dir("xdp-redirect-veth"));
        var t = j.Frames.Single(f => f.Frame == frame).Trace;
        output.WriteLine(Walk(t));
        Assert.Contains(t.Path, e => e.Namespace == "host" && e.Detail?.Contains(text, StringComparison.Ordinal) == true);
        if (reason is null)
        {
            Assert.Equal("server", t.Path[^1].Namespace);
            Assert.DoesNotContain(t.Path, e => e.Namespace == "host" && (e.Hook is not null || e.Function == "ip_rcv_core"));
        }
        else Assert.Equal((Fate.Dropped, reason), (t.Fate, t.Reason));
    }
}
