using PktFlow.Wire;

namespace PktFlow.Tests.Wire;

/// <summary>
/// The quoted datagram of an ICMP error whose sender had checksum offload: its UDP checksum field holds
/// only the pseudo-header sum. nf_nat_icmp_reply_translation rewrites it on an skb that is not
/// CHECKSUM_PARTIAL, so the port change is folded into the field as into a full sum. Bytes measured on
/// 6.18 (iptables-misc: MASQUERADE --random picked port 40790 for 10.1.0.2:45004; the server's port
/// unreachable quoted 0x1425 and left the router with 0x03af).
/// </summary>
public class AddressRewriteQuotedTests
{
    // 10.2.0.1:40790 -> 10.2.0.2:5004, UDP "x5004", checksum field 0x1425 (the pseudo-header sum)
    private static byte[] Quoted() => Convert.FromHexString("450000214cb140003f11db140a0200010a0200029f56138c000d14257835303034");

    [Fact]
    public void A_quoted_datagram_takes_the_port_change_into_its_checksum()
    {
        var ip = Quoted();
        Assert.True(AddressRewrite.Rewrite(ip, false, source: true, IpAddr.Parse("10.1.0.2"), 45004, out _, out var oldPort, quoted: true));
        Assert.Equal((ushort?)40790, oldPort);
        Assert.Equal("afcc138c000d03af", Convert.ToHexString(ip.AsSpan(20, 8)).ToLowerInvariant());
    }

    [Fact]
    public void The_senders_own_packet_keeps_a_pseudo_header_sum()
    {
        // the same bytes as a packet of the sending host (CHECKSUM_PARTIAL): the port is not in the pseudo-header
        var ip = Quoted();
        Assert.True(AddressRewrite.Rewrite(ip, false, source: true, IpAddr.Parse("10.1.0.2"), 45004, out _, out _));
        Assert.Equal("afcc138c000d1425", Convert.ToHexString(ip.AsSpan(20, 8)).ToLowerInvariant());
    }
}
