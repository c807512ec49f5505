using PktFlow.Macvlan;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Macvlan;

/// <summary>Which macvlans a multicast frame reaches: their mc_filter and the port's (macvlan_broadcast, macvlan_handle_frame).</summary>
public class MacvlanMcFilterTests
{
    // three IPv6 containers on eth0, as in tests/scenarios/macvlan-ipv6 (where the kernel gave c1's solicitation to mv1 alone)
    private const string Lab = """
        ip netns add client0
        ip netns add c1
        ip netns add c2
        ip netns add c3
        ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client0
        ip link set eth0 up
        ip link add link eth0 mv1 netns c1 address 02:42:0a:00:00:02 type macvlan mode bridge
        ip link add link eth0 mv2 netns c2 address 02:42:0a:00:00:03 type macvlan mode bridge
        ip link add link eth0 mv3 netns c3 address 02:42:0a:00:00:04 type macvlan mode vepa
        ip -n c1 -6 addr add 2001:db8::2/64 dev mv1 nodad
        ip -n c2 -6 addr add 2001:db8::3/64 dev mv2 nodad
        ip -n c3 -6 addr add 2001:db8::4/64 dev mv3 nodad
        ip -n c1 link set mv1 up
        ip -n c2 link set mv2 up
        ip -n c3 link set mv3 up

        """;

    private static readonly MacAddress SolicitedC1 = MacAddress.Parse("33:33:ff:00:00:02");
    private static readonly MacAddress AllNodes = MacAddress.Parse("33:33:00:00:00:01");
    private const MacvlanMode AnyMode = MacvlanMode.Private | MacvlanMode.Vepa | MacvlanMode.Passthru | MacvlanMode.Bridge;

    private static IReadOnlyList<(NetNamespace Ns, NetDevice Dev)> Port(string extra = "") =>
        LabLoader.Load(Lab + extra, "t.lab").MacvlanPort("host", "eth0");

    private static string[] Names(IEnumerable<(NetNamespace Ns, NetDevice Dev)> copies) => copies.Select(c => c.Dev.Name).ToArray();

    [Fact]
    public void ASolicitationReachesOnlyTheMacvlanOwningTheTarget()
    {
        var port = Port();
        Assert.Equal(["mv1"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, SolicitedC1)));
        // from a bridge-mode sibling: the other bridge-mode ones that joined (none but mv1)
        Assert.Equal(["mv1"], Names(MacvlanPort.BroadcastTargets(port, port.Single(p => p.Dev.Name == "mv2").Dev, MacvlanMode.Bridge, SolicitedC1)));
        Assert.Empty(MacvlanPort.BroadcastTargets(port, null, AnyMode, MacAddress.Parse("33:33:ff:00:00:99")));
    }

    [Fact]
    public void AllNodesAndBroadcastReachEveryMacvlanAllHostsToo()
    {
        var port = Port();
        Assert.Equal(["mv1", "mv2", "mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, AllNodes)).Order());
        Assert.Equal(["mv1", "mv2", "mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, MacAddress.Broadcast)).Order());
        Assert.Equal(["mv1", "mv2", "mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, MacAddress.Parse("01:00:5e:00:00:01"))).Order());
    }

    [Fact]
    public void DisablingIpv6LeavesOnlyIpv4sAllHosts()
    {
        var port = Port("ip netns exec c2 sysctl -w net.ipv6.conf.mv2.disable_ipv6=1\n");
        Assert.Equal(["mv1", "mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, AllNodes)).Order());
        Assert.Contains("mv2", Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, MacAddress.Parse("01:00:5e:00:00:01"))));
    }

    [Theory]
    [InlineData("promisc")]
    [InlineData("allmulticast")]
    public void APromiscuousOrAllmultiMacvlanGetsEveryGroup(string flag)
    {
        var port = Port($"ip -n c3 link set mv3 {flag} on\n");
        Assert.Equal(["mv1", "mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, SolicitedC1)).Order());
        Assert.True(port.Single(p => p.Dev.Name == "mv3").Dev.Macvlan!.McFilterFull);
        var off = Port($"ip -n c3 link set mv3 {flag} on\nip -n c3 link set mv3 {flag} off\n");
        Assert.Equal(["mv1"], Names(MacvlanPort.BroadcastTargets(off, null, AnyMode, SolicitedC1)));
    }

    [Theory]
    [InlineData("promisc")]
    [InlineData("allmulticast")]
    public void APromiscuousOrAllmultiMacvlanFillsThePortFilters_SoEveryGroupFromTheWireIsQueued(string flag)
    {
        var unjoined = MacAddress.Parse("01:00:5e:01:02:03");
        Assert.Equal(PortFilter.None, MacvlanMcFilter.Port(Port(), unjoined));
        // the flag reaches eth0 (macvlan_change_rx_flags), whose flags fill both port filters
        var port = Port($"ip -n c3 link set mv3 {flag} on\n");
        Assert.Equal(PortFilter.Queue, MacvlanMcFilter.Port(port, unjoined));
        Assert.Equal(["mv3"], Names(MacvlanPort.BroadcastTargets(port, null, AnyMode, unjoined)));
        // a down macvlan's flags do not reach the lower device
        Assert.Equal(PortFilter.None, MacvlanMcFilter.Port(Port($"ip -n c3 link set mv3 {flag} on\nip -n c3 link set mv3 down\n"), unjoined));
    }

    [Fact]
    public void ThePortFilterAllocatesNothingPerFrame()
    {
        // a group no macvlan joined (and no joined group shares its hash): no iterator, no list per frame
        var port = Port();
        var other = MacAddress.Parse("01:00:5e:7f:00:05");
        PortFilter filter = default; string? passes = null;
        void Frames(int n) { for (int i = 0; i < n; i++) (filter, passes) = (MacvlanMcFilter.Port(port, other), MacvlanMcFilter.Passes(port[0].Ns, port[0].Dev, other)); }
        Frames(500); // past the JIT's tiering
        long before = GC.GetAllocatedBytesForCurrentThread();
        Frames(1000);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(bytes < 1000, $"{bytes} bytes allocated over 1000 frames ({filter}, {passes})");
        Assert.Equal(PortFilter.None, filter);
        Assert.Null(passes);
        Assert.Equal(PortFilter.Direct, MacvlanMcFilter.Port(port, SolicitedC1));
    }

    [Fact]
    public void TheSourceIsSkippedAndModesFilter()
    {
        var port = Port();
        var mv3 = port.Single(p => p.Dev.Name == "mv3").Dev;
        // from the vepa mv3 (a hairpin switch sent it back): vepa and bridge ones but mv3
        Assert.Equal(["mv1", "mv2"], Names(MacvlanPort.BroadcastTargets(port, mv3, MacvlanMode.Vepa | MacvlanMode.Bridge, AllNodes)).Order());
        // from a bridge-mode one: only vepa ones (bridge siblings had it from macvlan_queue_xmit)
        Assert.Equal(["mv3"], Names(MacvlanPort.BroadcastTargets(port, port[0].Dev, MacvlanMode.Vepa, AllNodes)));
    }

    [Fact]
    public void PortHashIsTheKernelsHash32OfTheLastFourBytes()
    {
        // hash_32(0xffffffff, 8): 0xffffffff * 0x61c88647 = 0x9e3779b9 (mod 2^32), top 8 bits 0x9e
        Assert.Equal(0x9E, MacvlanMcFilter.PortHash(MacAddress.Broadcast));
        // bytes 2..5 read little-endian: 33:33:ff:00:00:02 -> 0x020000ff
        Assert.Equal(unchecked((int)((0x020000FFu * 0x61C88647u) >> 24)), MacvlanMcFilter.PortHash(SolicitedC1));
    }

    [Fact]
    public void ThePortQueuesAGroupSeveralJoinedAndDeliversAGroupOneJoinedAtOnce()
    {
        var port = Port();
        Assert.Equal(PortFilter.Queue, MacvlanMcFilter.Port(port, MacAddress.Broadcast));
        Assert.Equal(PortFilter.Queue, MacvlanMcFilter.Port(port, AllNodes));
        Assert.Equal(PortFilter.Direct, MacvlanMcFilter.Port(port, SolicitedC1));
        // a group no macvlan joined, whose hash no joined group shares
        var joined = new[] { "33:33:00:00:00:01", "01:00:5e:00:00:01", "33:33:ff:00:00:02", "33:33:ff:00:00:03", "33:33:ff:00:00:04", "ff:ff:ff:ff:ff:ff" }
            .Select(m => MacvlanMcFilter.PortHash(MacAddress.Parse(m))).ToHashSet();
        var link = port.Select(p => NamespaceBuilder.LinkLocalFor(p.Dev.Mac).Lo & 0xFFFFFF).Select(lo => MacvlanMcFilter.PortHash(new MacAddress(0x3333FF000000UL | lo)));
        joined.UnionWith(link);
        var stray = Enumerable.Range(0x10, 200).Select(i => new MacAddress(0x3333FF000000UL | (ulong)i)).First(m => !joined.Contains(MacvlanMcFilter.PortHash(m)));
        Assert.Equal(PortFilter.None, MacvlanMcFilter.Port(port, stray));
        // one macvlan with two addresses in the same solicited-node group synced it once (its list is refcounted)
        Assert.Equal(PortFilter.Direct, MacvlanMcFilter.Port(Port("ip -n c1 -6 addr add 2001:db8:1::2/64 dev mv1 nodad\n"), SolicitedC1));
        // a second subscriber moves the group from mc_filter to bc_filter (bc_cutoff 1)
        var two = Port("ip -n c2 -6 addr add 2001:db8:1::2/64 dev mv2 nodad\n");
        Assert.Equal(PortFilter.Queue, MacvlanMcFilter.Port(two, SolicitedC1));
    }
}
