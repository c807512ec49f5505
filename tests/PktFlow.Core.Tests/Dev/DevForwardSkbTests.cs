using PktFlow.Dev;
using PktFlow.Topology;

namespace PktFlow.Tests.Dev;

/// <summary>is_skb_forwardable, shared by veth_xmit and macvlan's dev_forward_skb.</summary>
public class DevForwardSkbTests
{
    private static NetDevice Dev(bool up, int mtu = 1500) => new() { Name = "d0", IfIndex = 2, Kind = DeviceKind.Veth, Mtu = mtu, IsUp = up };

    [Theory]
    [InlineData(true, 1514, false, true)]
    [InlineData(true, 1518, false, true)]  // MTU + ETH_HLEN + VLAN_HLEN: room for one tag
    [InlineData(true, 1519, false, false)]
    [InlineData(true, 9000, true, true)]   // a GSO packet is always forwardable
    [InlineData(false, 60, false, false)]  // the device is down
    public void RoomForOneVlanTagAndGsoAlways(bool up, int length, bool gso, bool forwardable) =>
        Assert.Equal(forwardable, DevForwardSkb.IsSkbForwardable(Dev(up), length, gso));
}
