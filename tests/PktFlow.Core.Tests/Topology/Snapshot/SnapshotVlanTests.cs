using PktFlow.Topology;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology.Snapshot;

/// <summary>A snapshot's bridge VLANs: `bridge -j vlan show` per device and `ip -d -j link`'s vlan_* bridge options.</summary>
public class SnapshotVlanTests
{
    [Fact]
    public void BridgeVlansAndOptionsAreTakenAsListed()
    {
        using var s = new TempSnapshot();
        s.Write("pfsnap-r/vlan.json", """
            [{"ifname":"p1","vlans":[{"vlan":10,"flags":["PVID","Egress Untagged"]},{"vlan":20,"vlanEnd":22}]},
             {"ifname":"br0","vlans":[{"vlan":10,"flags":["PVID"]}]}]
            """);
        s.EditJson("pfsnap-r/link.json", n =>
        {
            var data = n[3]!["linkinfo"]!["info_data"]!;
            data["vlan_filtering"] = 1;
            data["vlan_protocol"] = "802.1ad";
            data["vlan_default_pvid"] = 0;
        });
        var r = s.Load().Namespace("pfsnap-r")!;
        Assert.Equal("10 PVID Egress Untagged, 20, 21, 22", r.Device("p1")!.Vlans.ToString());
        Assert.Equal("10 PVID", r.Device("br0")!.Vlans.ToString());
        Assert.Equal(new BrVlanOptions(true, EtherTypes.QinQ, 0), r.Device("br0")!.VlanOptions);
        Assert.DoesNotContain(r.Unmodelled, l => l.Contains("vlan.json", StringComparison.Ordinal));
    }

    [Fact]
    public void AKernelWithoutVlanFilteringListsNoVlans()
    {
        using var s = new TempSnapshot();
        var r = s.Load().Namespace("pfsnap-r")!;
        Assert.False(r.Device("br0")!.VlanOptions.Filtering);
        Assert.Equal("none", r.Device("p1")!.Vlans.ToString());
    }

    [Fact]
    public void AVlanDeviceIsTakenWithItsLowerDeviceIdAndProtocol()
    {
        using var s = new TempSnapshot();
        s.EditJson("pfsnap-r/link.json", n => n.AsArray().Add(System.Text.Json.Nodes.JsonNode.Parse("""
            {"ifindex":9,"link":"br0","ifname":"br0.10","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,
             "operstate":"UP","link_type":"ether","address":"02:00:5e:10:0b:01",
             "linkinfo":{"info_kind":"vlan","info_data":{"protocol":"802.1ad","id":10,"flags":["REORDER_HDR"]}}}
            """)));
        var r = s.Load().Namespace("pfsnap-r")!;
        Assert.Equal(new VlanDevParameters("br0", 10, EtherTypes.QinQ), r.Device("br0.10")!.VlanDev);
        Assert.DoesNotContain(r.Unmodelled, l => l.Contains("br0.10", StringComparison.Ordinal));
    }
}
