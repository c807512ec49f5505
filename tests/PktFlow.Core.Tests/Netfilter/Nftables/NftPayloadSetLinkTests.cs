using PktFlow.Netfilter.Nftables;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Netfilter.Nftables;

/// <summary>
/// Link-layer payload statements (ether saddr/daddr/type, vlan id/pcp/dei/type set), pinned to 6.18 with
/// nft 1.0.6: every family and hook loads them; a bridge prerouting rule's <c>vlan id 10 vlan id set 20</c>
/// made the next rule's <c>vlan id 20</c> match and the frame leave tagged 20, while <c>vlan pcp set 3</c>
/// and <c>vlan dei set 1</c> on the same (rx-accelerated) tag ended their rules unwritten.
/// </summary>
public class NftPayloadSetLinkTests
{
    private static byte[] Tagged(ushort tci) =>
        Convert.FromHexString("ffffffffffff020000000001" + "8100" + tci.ToString("x4") + "0800");

    private static FakeNftPacket Frame(byte[] mac, bool outside = false) =>
        new() { Family = NftFamily.Bridge, Mac = mac, Net = Ipv4("10.0.0.1", "10.0.0.2", 17, new byte[8]), VlanTagOutside = outside };

    private static NftHookResult Run(string rules, FakeNftPacket p) => NftPayloadSetTests.Run(rules, p, "bridge");

    [Fact]
    public void EtherDaddrSetRewritesTheFrame()
    {
        var p = Frame(Convert.FromHexString("020000000002020000000001" + "0800"));
        var r = Run("ether daddr set 02:00:00:00:00:77\n ether daddr 02:00:00:00:00:77 drop", p);
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(Convert.FromHexString("020000000077"), p.Mac[..6]);
        Assert.Contains("ether daddr set: 02:00:00:00:00:02 -> 02:00:00:00:00:77", r.Notes);
    }

    [Fact]
    public void WithoutAMacHeaderTheRuleEnds()
    {
        var p = Frame(Array.Empty<byte>());
        Assert.Equal("accept", Run("ether saddr set 02:00:00:00:00:77 drop", p).Verdict);
    }

    [Fact]
    public void VlanIdSetOnATagOutsideTheFrameWritesTheTciAndKeepsThePcp()
    {
        var p = Frame(Tagged(0xA00A), outside: true); // pcp 5, vid 10
        var r = Run("vlan id 10 vlan id set 20\n vlan id 20 drop", p);
        Assert.Equal("drop", r.Verdict);
        Assert.Equal(new byte[] { 0xA0, 0x14 }, p.Mac[14..16]);
    }

    [Theory]
    [InlineData("vlan pcp set 3")]
    [InlineData("vlan dei set 1")]
    public void OneByteTciWritesEndTheRuleWhenTheTagIsOutsideTheFrame(string stmt)
    {
        var p = Frame(Tagged(10), outside: true);
        var r = Run($"vlan id 10 {stmt} drop", p);
        Assert.Equal("accept", r.Verdict);
        Assert.Equal(Tagged(10), p.Mac);
        Assert.Contains(r.Notes, n => n.Contains("skb->vlan_tci") && n.Contains("NFT_BREAK"));
    }

    [Fact]
    public void OneByteTciWritesChangeATagInTheBytes()
    {
        var p = Frame(Tagged(10));
        Assert.Equal("drop", Run("vlan pcp set 3\n vlan dei set 1\n vlan pcp 3 vlan dei 1 vlan id 10 drop", p).Verdict);
        Assert.Equal(new byte[] { 0x70, 0x0A }, p.Mac[14..16]);
    }

    [Fact]
    public void VlanFieldsOfAnUntaggedFrameEndTheRule()
    {
        var mac = Convert.FromHexString("020000000002020000000001" + "0800");
        var p = Frame(mac.ToArray());
        Assert.Equal("accept", Run("vlan id set 5 drop", p).Verdict);
        Assert.Equal(mac, p.Mac);
    }

    [Fact]
    public void VlanTypeSetWritesTheEncapsulatedType()
    {
        var p = Frame(Tagged(10), outside: true);
        Run("vlan type set 0x86dd", p);
        Assert.Equal(new byte[] { 0x86, 0xDD }, p.Mac[16..18]);
        Assert.Equal(new byte[] { 0x81, 0x00 }, p.Mac[12..14]);
    }
}
