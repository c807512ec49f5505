using PktFlow.Bpf;

namespace PktFlow.Tests.Bpf;

/// <summary>The loader against objects clang 14 built (TestData/bpf/*.c, rebuilt by build.sh).</summary>
public sealed class BpfObjectTests
{
    public static string Obj(string name) => Path.Combine(PktFlow.Testing.RepoPaths.Root, "tests", "PktFlow.Core.Tests", "TestData", "bpf", name);

    private static byte[] UdpFrame(ushort dport, int payload = 4)
    {
        var udp = new PacketDotNet.UdpPacket(5000, dport) { PayloadData = new byte[payload] };
        var ip = new PacketDotNet.IPv4Packet(System.Net.IPAddress.Parse("10.0.0.1"), System.Net.IPAddress.Parse("10.0.0.2")) { PayloadPacket = udp, TimeToLive = 64 };
        var eth = new PacketDotNet.EthernetPacket(System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-01"),
            System.Net.NetworkInformation.PhysicalAddress.Parse("02-00-00-00-00-02"), PacketDotNet.EthernetType.IPv4) { PayloadPacket = ip };
        ip.UpdateCalculatedValues();
        return eth.Bytes;
    }

    [Fact]
    public void BtfMapsRodataAndATextSubprogramAreLinked()
    {
        var obj = BpfObject.Load(Obj("xdp_prog.o"));
        var prog = obj.Program("xdp");
        Assert.Equal("xdp_udp", prog.Name);
        Assert.Equal("GPL", obj.License);
        var ports = Assert.Single(obj.Maps, m => m.Name == "ports");
        Assert.Equal((BpfMapType.Hash, 2, 8, 64), (ports.Type, ports.KeySize, ports.ValueSize, ports.MaxEntries));
        var verdicts = Assert.Single(obj.Maps, m => m.Name == "verdicts");
        Assert.Equal((BpfMapType.PercpuArray, 4, 8, 4), (verdicts.Type, verdicts.KeySize, verdicts.ValueSize, verdicts.MaxEntries));

        var states = prog.Maps.Select(m => new BpfMapState(m)).ToArray();
        var vm = new BpfVm(XdpContext.Helpers());
        var ctx = new XdpContext();
        vm.Host = ctx;
        var results = new List<ulong>();
        foreach (ushort port in new ushort[] { 53, 7777, 53 })
        {
            vm.Reset(states);
            ctx.Load(UdpFrame(port), 2);
            var r = vm.Run(prog, ctx.Attach(vm));
            Assert.True(r.Ok, r.ToString());
            results.Add(r.R0);
            Assert.Equal($"udp to {port}", Assert.Single(vm.Notes));
        }
        Assert.Equal([(ulong)XdpAction.Pass, (ulong)XdpAction.Drop, (ulong)XdpAction.Pass], results);
        var portCounts = states.Single(s => s.Def.Name == "ports").Entries().ToDictionary(e => BitConverter.ToUInt16(e.Key), e => BitConverter.ToUInt64(e.Value));
        Assert.Equal(new Dictionary<ushort, ulong> { [53] = 2, [7777] = 1 }, portCounts);
        var verdictCounts = states.Single(s => s.Def.Name == "verdicts").Entries().Select(e => BitConverter.ToUInt64(e.Value)).ToArray();
        Assert.Equal([0UL, 1UL, 2UL, 0UL], verdictCounts);
    }

    [Fact]
    public void ATruncatedUdpHeaderIsAborted()
    {
        var prog = BpfObject.Load(Obj("xdp_prog.o")).Program("xdp");
        var vm = new BpfVm(XdpContext.Helpers());
        var ctx = new XdpContext();
        vm.Host = ctx;
        vm.Reset(prog.Maps.Select(m => new BpfMapState(m)).ToArray());
        ctx.Load(UdpFrame(53).AsSpan(0, 14 + 20 + 4), 2);
        Assert.Equal((ulong)XdpAction.Aborted, vm.Run(prog, ctx.Attach(vm)).R0);
    }

    [Fact]
    public void LegacyMapsSectionIsRead()
    {
        var obj = BpfObject.Load(Obj("legacy_maps.o"));
        var m = Assert.Single(obj.Maps);
        Assert.Equal(("counter", BpfMapType.Array, 4, 8, 1), (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries));
        Assert.Equal("cls_count", obj.Program("classifier").Name);
    }

    [Fact]
    public void AMissingSectionNamesTheOnesThereAre()
    {
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Load(Obj("xdp_prog.o")).Program("tc"));
        Assert.Contains("no program in section tc (has xdp)", e.Message);
    }

    [Fact]
    public void NotAnElfFileIsRefused()
    {
        var e = Assert.Throws<BpfLoadException>(() => BpfObject.Parse([1, 2, 3], "junk.o"));
        Assert.Equal("junk.o: not an ELF file", e.Message);
    }
}
