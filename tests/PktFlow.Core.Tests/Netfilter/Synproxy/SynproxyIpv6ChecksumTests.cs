using PktFlow.Datapath;
using PktFlow.Netfilter;
using PktFlow.Offload;
using PktFlow.Tests.Wire;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Synproxy;

/// <summary>
/// nft_synproxy_do_eval calls nf_ip_checksum for IPv6 too (measured on 6.18: an inet table's synproxy left a
/// scapy-sent IPv6 SYN with a correct checksum unanswered, and answered socat's, which is CHECKSUM_PARTIAL).
/// </summary>
public class SynproxyIpv6ChecksumTests
{
    private static SkBuff Syn6(IpSummed summed)
    {
        var topo = LabLoader.Load("ip link set lo up\n", "t.lab");
        var ns = topo.Namespaces[0];
        var packet = FrameBuilder.Ipv6("2001:db8:9::2", "2001:db8:9::1", IpProtocol.Tcp, FrameBuilder.Tcp("2001:db8:9::2", "2001:db8:9::1", 40000, 80, 1000, 0, TcpFlags.Syn));
        return new SkBuff(packet) { Netns = ns, Dev = ns.Devices[0], Engine = new DatapathEngine(topo), IpSummed = summed, Protocol = EtherTypes.Ipv6 };
    }

    [Fact]
    public void NftsSynproxyFailsACorrectChecksumOfACheckSumNoneIpv6Segment()
    {
        var check = NfSynproxy.ChecksumCheck(Syn6(IpSummed.None), xt: false);
        Assert.True(check.Bad);
        Assert.Contains("reads the IPv6 header as an IPv4 one", check.Note);
    }

    [Theory]
    [InlineData(IpSummed.Partial, false)]     // a local stack's SYN (the synproxy6 scenario)
    [InlineData(IpSummed.Unnecessary, false)]
    [InlineData(IpSummed.None, true)]          // xt's SYNPROXY: synproxy_tg6 uses nf_ip6_checksum
    public void OtherwiseTheSegmentPasses(IpSummed summed, bool xt) =>
        Assert.False(NfSynproxy.ChecksumCheck(Syn6(summed), xt).Bad);
}
