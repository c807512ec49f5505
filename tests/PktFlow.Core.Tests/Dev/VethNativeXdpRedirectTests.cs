using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;

namespace PktFlow.Tests.Dev;

/// <summary>
/// Native XDP on a veth sending frames on as xdp_frames: XDP_REDIRECT through xdp_do_redirect to a
/// veth's ndo_xdp_xmit (only while the target's peer has a native program: NAPI), XDP_TX to a peer
/// with its own program, a devmap slot filled by bpftool in the lab. Judged in
/// tests/scenarios/xdp-native-redirect.
/// </summary>
public class VethNativeXdpRedirectTests(ITestOutputHelper output)
{
    private static readonly string Dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "xdp-native-redirect");

    private static string Walk(PacketTrace t) => string.Join(" ", t.Path.Select(e => $"{e.Namespace}/{e.Function}"));

    [Fact]
    public void EveryFrameOfTheScenarioAgreesWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        foreach (var f in j.Frames.Where(f => !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.Equal(17, j.Judged);
        Assert.Equal(j.Judged, j.Agreed);
    }

    [Theory]
    [InlineData(1, "server", "xdp_do_redirect", "XDP_REDIRECT to eth1 (bpf_redirect, ifindex 3)")]
    [InlineData(3, "server", "xdp_do_redirect", "XDP_REDIRECT to eth1")]                 // 1018 bytes: MTU 1000 + 14 + VLAN_HLEN
    [InlineData(11, "server", "xdp_do_redirect", "XDP_REDIRECT to eth1 (bpf_redirect_map xnr_devmap[0])")]
    [InlineData(14, "small", "xdp_do_redirect", "XDP_REDIRECT to eth3")]
    [InlineData(8, "client", "veth_xdp_rcv_skb", "XDP_TX")]
    public void AnXdpFrameReachesThePeerPastTheHostsTapsAndHooks(int frame, string ns, string function, string text)
    {
        var t = ScenarioJudge.Judge(Dir).Frames.Single(f => f.Frame == frame).Trace;
        output.WriteLine(Walk(t));
        Assert.Contains(t.Path, e => e.Namespace == "host" && e.Function == function && e.Detail!.Contains(text, StringComparison.Ordinal));
        Assert.DoesNotContain(t.Path, e => e.Namespace == "host" && (e.Hook is not null || e.Function is "ip_rcv_core" or "dev_hard_start_xmit"));
        // the receiving peer's own native program runs on the frame before its skb is built
        int rcv = t.Path.ToList().FindIndex(e => e.Function == "veth_xdp_rcv_one");
        Assert.True(rcv > 0);
        Assert.Equal((ns, Verdict.Pass, "eth_type_trans"), (t.Path[rcv].Namespace, t.Path[rcv].Verdict, t.Path[rcv + 1].Function));
        Assert.Equal(ns, t.Path[^1].Namespace);
        string via = function == "xdp_do_redirect" ? $"XDP_REDIRECT -> {(ns == "small" ? "eth3" : "eth1")} (veth)" : "XDP_TX -> eth0 (veth)";
        Assert.Contains($"-> (host) eth0 -> {via} -> ({ns}) eth0 -> ", PktFlow.Render.NamespaceColumns.Line(t));
    }

    [Theory]
    [InlineData(5, "xdp_redirect_err -EMSGSIZE", "xdp_do_redirect", "1019-byte frame, eth1 takes at most 1018")]
    [InlineData(6, "xdp_redirect_err -EOPNOTSUPP", "xdp_do_redirect", "its peer dark/eth0 has no native XDP program")]
    [InlineData(7, "xdp_redirect_err -EOPNOTSUPP", "xdp_do_redirect", "a bridge device has no ndo_xdp_xmit")]
    [InlineData(13, "NOT_SPECIFIED", "veth_xdp_rcv_skb", "XDP_DROP")]                    // devmap slot 1 empty: the fallback
    [InlineData(15, "xdp_devmap_xmit", "veth_xdp_xmit", "1114-byte xdp_frame out of eth3, small/eth0 takes at most 1018")]
    public void RefusedRedirects(int frame, string reason, string function, string text)
    {
        var t = ScenarioJudge.Judge(Dir).Frames.Single(f => f.Frame == frame).Trace;
        output.WriteLine(Walk(t));
        Assert.Equal((Fate.Dropped, reason, "host", function), (t.Fate, t.Reason, t.Path[^1].Namespace, t.Path[^1].Function));
        Assert.Contains(text, t.Path[^1].Detail);
    }
}
