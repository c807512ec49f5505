using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Routing;

/// <summary>`ip nexthop` in labs, against what 6.18 answered and listed for the same commands.</summary>
public class NexthopObjectTests
{
    private const string Lab = """
        ip link add up1 type veth peer name q1
        ip link add up2 type veth peer name q2
        ip link set up1 up
        ip link set up2 up
        ip link set q1 up
        ip link set q2 up
        ip addr add 10.0.1.1/24 dev up1
        ip addr add 10.0.2.1/24 dev up2
        ip -6 addr add 2001:db8:1::1/64 dev up1
        ip -6 addr add 2001:db8:2::1/64 dev up2
        ip nexthop add id 1 via 10.0.1.2 dev up1
        ip nexthop add id 2 via 10.0.2.2 dev up2
        ip nexthop add id 6 via 2001:db8:1::2 dev up1
        ip nexthop add id 7 via 2001:db8:2::2 dev up2
        ip nexthop add id 10 group 1/2,3
        ip nexthop add id 22 group 1/6
        ip nexthop add id 60 group 6/7
        ip route add 198.51.100.0/24 nhid 10
        ip route add 198.51.101.0/24 nhid 1
        ip route add 198.51.102.0/24 nhid 60
        ip -6 route add 2001:db8:100::/64 nhid 60
        """;

    private static string[] Routes(string lab) =>
        LabLoader.Load(lab, "nh.lab").Host.Routes.Where(r => r.NexthopId is not null).Select(r => r.ToString()).ToArray();

    [Fact]
    public void RoutesListTheirNexthopObjectAsIpRouteDoes()
    {
        Assert.Equal(new[]
        {
            "198.51.100.0/24 nhid 10 nexthop via 10.0.1.2 dev up1 weight 1 nexthop via 10.0.2.2 dev up2 weight 3",
            "198.51.101.0/24 nhid 1 via 10.0.1.2 dev up1",
            "198.51.102.0/24 nhid 60 nexthop via inet6 2001:db8:1::2 dev up1 weight 1 nexthop via inet6 2001:db8:2::2 dev up2 weight 1",
            "2001:db8:100::/64 nhid 60 metric 1024 nexthop via 2001:db8:1::2 dev up1 weight 1 nexthop via 2001:db8:2::2 dev up2 weight 1",
        }, Routes(Lab));
        var objects = LabLoader.Load(Lab, "nh.lab").Host.NexthopObjects.Select(n => n.ToString());
        Assert.Contains("id 10 group 1/2,3", objects);
        Assert.Contains("id 1 via 10.0.1.2 dev up1 scope link", objects);
    }

    [Fact]
    public void ADeviceGoingDownTakesItsNexthopsOutOfGroupsAndRoutes()
    {
        // ip link set up1 down on 6.18: nexthops 1 and 6 go, group 22 (1/6) goes, group 10 keeps 2,3.
        var lab = LabLoader.Load(Lab + "\nip link set up1 down", "nh.lab").Host;
        Assert.Equal(new[] { "198.51.100.0/24 nhid 10 via 10.0.2.2 dev up2", "198.51.102.0/24 nhid 60 via inet6 2001:db8:2::2 dev up2", "2001:db8:100::/64 nhid 60 via 2001:db8:2::2 dev up2 metric 1024" },
            lab.Routes.Where(r => r.NexthopId is not null).Select(r => r.ToString()).ToArray());
        Assert.Equal(new[] { "id 2 via 10.0.2.2 dev up2 scope link", "id 7 via 2001:db8:2::2 dev up2 scope link", "id 10 group 2,3", "id 60 group 7" },
            lab.NexthopObjects.Select(n => n.ToString()).ToArray());
    }

    [Fact]
    public void DeletingANexthopTakesItOutOfGroupsAndDeletesRoutesThatUsedIt()
    {
        // ip nexthop del id 1 on 6.18: route 198.51.101.0/24 (nhid 1) goes, group 10 keeps 2,3 and
        // group 22 keeps 6; deleting group 10 then deletes its route.
        var lab = LabLoader.Load(Lab + "\nip nexthop del id 1\nip nexthop del id 10", "nh.lab").Host;
        Assert.Equal(new[] { "198.51.102.0/24 nhid 60 nexthop via inet6 2001:db8:1::2 dev up1 weight 1 nexthop via inet6 2001:db8:2::2 dev up2 weight 1",
            "2001:db8:100::/64 nhid 60 metric 1024 nexthop via 2001:db8:1::2 dev up1 weight 1 nexthop via 2001:db8:2::2 dev up2 weight 1" },
            lab.Routes.Where(r => r.NexthopId is not null).Select(r => r.ToString()).ToArray());
        Assert.Equal(new[] { "id 2 via 10.0.2.2 dev up2 scope link", "id 6 via 2001:db8:1::2 dev up1 scope link", "id 7 via 2001:db8:2::2 dev up2 scope link", "id 22 group 6", "id 60 group 6/7" },
            lab.NexthopObjects.Select(n => n.ToString()).ToArray());
    }

    [Fact]
    public void FlushTakesEveryNexthopAndItsRoutes()
    {
        var lab = LabLoader.Load(Lab + "\nip nexthop flush\nip nexthop flush", "nh.lab").Host; // a second flush has nothing to flush
        Assert.Empty(lab.NexthopObjects);
        Assert.DoesNotContain(lab.Routes, r => r.NexthopId is not null);
    }

    [Theory]
    [InlineData("ip nexthop add id 20 group 1/10", "Hash-threshold group can not be a nexthop within a group")]
    [InlineData("ip nexthop add id 23 group 1/1", "Nexthop id can not be used twice in a group")]
    [InlineData("ip -6 route add 2001:db8:300::/64 nhid 10", "IPv6 routes can not use an IPv4 nexthop")]
    [InlineData("ip route add 198.51.103.0/24 nhid 99", "Nexthop id does not exist")]
    [InlineData("ip nexthop add id 3 via 10.0.9.2 dev up1", "Nexthop has invalid gateway")]
    [InlineData("ip nexthop add id 4 via 10.0.1.3", "Device attribute required")]
    [InlineData("ip nexthop add id 1 via 10.0.1.4 dev up1", "File exists")]
    [InlineData("ip nexthop del id 99", "No such file or directory")]
    public void RefusalsAreTheKernels(string command, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(Lab + "\n" + command, "nh.lab"));
        Assert.Contains(message, e.Message);
        Assert.Contains("nh.lab:22", e.Message);
    }

    [Fact]
    public void ANexthopNeedsCarrier()
    {
        // 6.18: "Error: Carrier for nexthop device is down." while the veth's peer is down.
        var lab = Lab + "\nip link add up3 type veth peer name q3\nip link set up3 up\nip addr add 10.0.3.1/24 dev up3\nip nexthop add id 5 via 10.0.3.2 dev up3";
        Assert.Contains("Carrier for nexthop device is down", Assert.Throws<LabException>(() => LabLoader.Load(lab, "nh.lab")).Message);
        Assert.Contains(LabLoader.Load(lab.Replace("ip link set up3 up", "ip link set up3 up\nip link set q3 up"), "nh.lab").Host.NexthopObjects, n => n.Id == 5);
    }

    [Fact]
    public void GroupWeightsAndTypesAreCheckedByToken()
    {
        Assert.Equal("300", Assert.Throws<LabException>(() => LabLoader.Load(Lab + "\nip nexthop add id 20 group 1,300/2", "nh.lab")).Token);
        Assert.Equal("resilient", Assert.Throws<LabException>(() => LabLoader.Load(Lab + "\nip nexthop add id 30 group 1/2 type resilient", "nh.lab")).Token);
    }
}
