using PktFlow.Bpf;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Bpf;

/// <summary>
/// bpf_redirect_map and XDP_TX cases the recorded scenarios do not reach (TestData/bpf/xdp_devmap.c):
/// devmap elements filled as user space would (from the test, or by the lab's `bpftool map update`),
/// the targets the model does not have (XSKMAP, CPUMAP, broadcast) and what the verifier would refuse.
/// </summary>
public class XdpRedirectMapTests
{
    private static readonly MacAddress H = MacAddress.Parse("02:00:00:00:01:01"), C = MacAddress.Parse("02:00:00:00:01:02");

    private static DatapathEngine Engine(string sec, string eth1 = "", string more = "", string mode = "xdpgeneric") => new(LabLoader.Load($"""
        ip netns add c
        ip netns add s
        ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c
        ip link add eth1 address 02:00:00:00:02:01 {eth1} type veth peer name eth0 address 02:00:00:00:02:02 netns s
        ip addr add 10.1.0.1/24 dev eth0
        ip link set eth0 up
        ip link set eth1 up
        ip -n c link set eth0 up
        ip -n c addr add 10.1.0.2/24 dev eth0
        ip -n s link set eth0 up
        ip -n s addr add 10.2.0.2/24 dev eth0
        ip link set dev eth0 {mode} obj {BpfObjectTests.Obj("xdp_devmap.o")} sec {sec}
        {more}
        """, "xdp.lab"));

    private static PacketTrace Send(DatapathEngine engine, int payload = 8)
    {
        var f = FrameBuilder.Ethernet(H, C, EtherTypes.Ipv4, FrameBuilder.Ipv4(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), 17,
            FrameBuilder.Udp(IpAddr.Parse("10.1.0.2"), IpAddr.Parse("10.2.0.2"), 40000, 7777, payload)));
        return engine.Process(new CaptureFrame(1, 0, LinkType.Ethernet, 0, null, f.Length, f.Length, 24, f), "t.pcap", engine.ResolveInjectionPoint("host/eth0"));
    }

    /// <summary>The attachment's map, as bpftool map update would fill it; the runtime exists once a packet has passed.</summary>
    private static BpfMapState Map(DatapathEngine engine, string name) =>
        engine.States.Single(s => s.Bpf.Count > 0).Bpf.Values.Single().Maps.Single(m => m.Def.Name == name);

    private static long Put(BpfMapState m, uint key, uint ifindex) => m.Update(BitConverter.GetBytes(key), BitConverter.GetBytes(ifindex), 0);

    [Fact]
    public void ADevmapElementRedirectsToItsDevice()
    {
        var engine = Engine("xdp/devmap");
        var miss = Send(engine); // empty map: the fallback XDP_PASS, the stack has no route to 10.2.0.0/24
        Assert.Contains(miss.Path, e => e.Function == "netif_receive_generic_xdp" && e.Verdict == Verdict.Pass);
        Assert.Equal(0, Put(Map(engine, "devs"), 0, 3)); // eth1
        var t = Send(engine);
        Assert.Contains(t.Path, e => e.Function == "generic_xdp_tx" && e.Detail!.Contains("XDP_REDIRECT to eth1 (bpf_redirect_map devs[0])"));
        // the program left the MACs alone: s receives a frame for host/eth0's address (PACKET_OTHERHOST)
        Assert.Equal(("s", Fate.Dropped, "OTHERHOST"), (t.Path[^1].Namespace, t.Fate, t.Reason));
    }

    [Fact]
    public void ADevmapTargetTooSmallForTheFrameDropsIt()
    {
        var engine = Engine("xdp/devmap", "mtu 1000");
        Send(engine);
        Put(Map(engine, "devs"), 0, 3);
        Assert.Equal("s", Send(engine, 1018 - 42).Path[^1].Namespace); // MTU + ETH_HLEN + VLAN_HLEN fits
        var t = Send(engine, 1019 - 42);
        Assert.Equal((Fate.Dropped, "XDP"), (t.Fate, t.Reason));
        Assert.Contains(t.Path, e => e.Function == "xdp_do_generic_redirect" && e.Detail!.Contains("-EMSGSIZE"));
    }

    [Fact]
    public void ARedirectToADeviceWithoutPeerLeavesTheModelByGenericXdpTx()
    {
        var engine = Engine("xdp/devmap", more: "ip link add d0 type dummy\nip link set d0 up");
        Send(engine);
        Put(Map(engine, "devs"), 0, 4); // d0
        var t = Send(engine);
        Assert.Equal((Fate.Forwarded, "generic_xdp_tx on d0", "host/d0"), (t.Fate, t.Reason, t.Egress));
        Assert.DoesNotContain(t.Path, e => e.Function is "dev_hard_start_xmit" or "sch_handle_egress" && e.Namespace == "host");
    }

    [Fact]
    public void IndexedDevmapsRefuseKeysPastMaxEntries()
    {
        var engine = Engine("xdp/devmap");
        Send(engine);
        Assert.Equal(-7, Put(Map(engine, "devs"), 4, 3)); // E2BIG
        Assert.Equal(0, Put(Map(engine, "devhash"), 4000, 3));
    }

    [Fact]
    public void ADevmapHashMissTakesTheFallbackActionAndAHitRedirects()
    {
        var engine = Engine("xdp/devhash");
        var t = Send(engine);
        Assert.Equal((Fate.Dropped, "NOT_SPECIFIED"), (t.Fate, t.Reason)); // XDP_DROP from the flags
        Put(Map(engine, "devhash"), 7, 3);
        Assert.Equal("s", Send(engine).Path[^1].Namespace);
    }

    [Theory]
    [InlineData("xdp/xsk", "bpf_redirect_map into xsks, an XSKMAP (AF_XDP sockets are not modelled)", "xdpgeneric")]
    [InlineData("xdp/cpu", "bpf_redirect_map into cpus, a CPUMAP", "xdpgeneric")]
    [InlineData("xdp/broadcast", "BPF_F_BROADCAST", "xdpgeneric")]
    [InlineData("xdp/update", "bpf_map_update_elem on devs, a DevMap map (the verifier refuses it", "xdpgeneric")]
    [InlineData("xdp/xsk", "bpf_redirect_map into xsks, an XSKMAP (AF_XDP sockets are not modelled)", "xdpdrv")]
    [InlineData("xdp/cpu", "bpf_redirect_map into cpus, a CPUMAP", "xdpdrv")]
    public void WhatTheModelCannotFollowSaysUnsupported(string sec, string text, string mode)
    {
        var t = Send(Engine(sec, mode: mode));
        Assert.Equal(Fate.Unsupported, t.Fate);
        Assert.Contains(text, t.Reason);
    }

    [Fact]
    public void RedirectWithoutATargetIsDroppedWithReasonXdp()
    {
        var t = Send(Engine("xdp/notarget"));
        Assert.Equal((Fate.Dropped, "XDP"), (t.Fate, t.Reason));
        Assert.Contains(t.Path, e => e.Function == "xdp_do_generic_redirect" && e.Detail!.Contains("-EBADRQC"));
    }

    [Fact]
    public void XdpTxSendsTheFrameBackToThePeerPastTheEgressHooks()
    {
        var t = Send(Engine("xdp/tx"));
        var walk = t.Path.Select(e => $"{e.Namespace}/{e.Function}").ToList();
        int at = walk.IndexOf("host/generic_xdp_tx");
        Assert.Equal(["host/netif_receive_generic_xdp", "host/generic_xdp_tx", "host/veth_xmit", "c/eth_type_trans"], walk[(at - 1)..(at + 3)]);
        Assert.Equal("c", t.Path[^1].Namespace);
    }

    [Theory]
    [InlineData("bpftool map update name devs key 0 0 0 0 value 3 0 0 0")]
    [InlineData("bpftool map update name devs key hex 00 00 00 00 value hex 03 00 00 00 any")]
    [InlineData("bpftool -j map update name devs key 0x0 0 0 00 value 0x3 0 0 0 exist")]
    public void ADevmapSlotTheLabFilledWithBpftoolRedirects(string update)
    {
        var t = Send(Engine("xdp/devmap", more: update));
        Assert.Contains(t.Path, e => e.Function == "generic_xdp_tx" && e.Detail!.Contains("XDP_REDIRECT to eth1 (bpf_redirect_map devs[0])"));
        Assert.Equal("s", t.Path[^1].Namespace);
    }

    [Fact]
    public void ADevmapHashKeyTheLabFilledRedirectsInNativeModeOnlyToAVethWhosePeerHasNapi()
    {
        // native XDP: eth1 takes xdp_frames only while s/eth0 has a native program of its own
        var fill = "bpftool map update name devhash key 7 0 0 0 value 3 0 0 0";
        var refused = Send(Engine("xdp/devhash", more: fill, mode: "xdpdrv"));
        Assert.Equal((Fate.Dropped, "xdp_redirect_err -EOPNOTSUPP"), (refused.Fate, refused.Reason));
        var pass = Path.Combine(RepoPaths.Root, "tests", "scenarios", "xdp-native-redirect", "xdp_pass.o");
        var t = Send(Engine("xdp/devhash", more: fill + $"\nip -n s link set dev eth0 xdpdrv obj {pass} sec xdp", mode: "xdpdrv"));
        Assert.Contains(t.Path, e => e.Function == "xdp_do_redirect" && e.Detail!.Contains("XDP_REDIRECT to eth1 (bpf_redirect_map devhash[7])"));
        Assert.Contains(t.Path, e => e.Namespace == "s" && e.Function == "veth_xdp_rcv_one");
    }

    [Theory]
    [InlineData("bpftool map update name nosuch key 0 0 0 0 value 3 0 0 0", "no XDP program attached so far has a map named nosuch")]
    [InlineData("bpftool map update name devs key 0 0 0 value 3 0 0 0", "map devs has 4-byte keys, the key has 3 bytes")]
    [InlineData("bpftool map update name devs key 0 0 0 0 value 3 0 0 0 0", "map devs has 4-byte values, the value has 5 bytes")]
    [InlineData("bpftool map update name devs key 4 0 0 0 value 3 0 0 0", "index 4 is past map devs's 4 entries (E2BIG)")]
    [InlineData("bpftool map update name devs key 256 0 0 0 value 3 0 0 0", "'256' is not a byte")]
    [InlineData("bpftool map update id 12 key 0 0 0 0 value 3 0 0 0", "unsupported: a map named other than by `name MAP`")]
    [InlineData("bpftool map update pinned /sys/fs/bpf/devs key 0 0 0 0 value 3 0 0 0", "unsupported: a map named other than by `name MAP`")]
    [InlineData("bpftool map update name devs key 0 0 0 0 value 3 0 0 0 noexist", "map_update_elem returns -17: EEXIST")]
    [InlineData("bpftool prog show", "unsupported: bpftool commands other than `map update name MAP key ... value ...`")]
    [InlineData("bpftool map update name devs key 0 0 0 0 value 3 0 0 0 always", "'always' is not a byte")]
    [InlineData("ip netns exec c bpftool map update name devs key 0 0 0 0 value 3 0 0 0", "unsupported: a devmap of a program in another namespace")]
    public void ABpftoolUpdateTheModelCannotApplyFailsOnLoad(string update, string text)
    {
        var e = Assert.Throws<LabException>(() => Engine("xdp/devmap", more: update));
        Assert.Contains(text, e.Message);
        Assert.Contains("xdp.lab:", e.Message);
    }
}
