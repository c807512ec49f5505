using PktFlow.Netfilter;
using PktFlow.Testing;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// Get-PktFlowConntrack's accounting columns. Checked on Linux 6.18 with conntrack-tools 1.4.7 in
/// namespaces: 3 pings (84-byte IPv4 packets) to a host with net.netfilter.nf_conntrack_acct=1 list as
///   icmp     1 29 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=5696 packets=3 bytes=252 src=10.9.0.2 dst=10.9.0.1 type=0 code=0 id=5696 packets=3 bytes=252 mark=0 use=1
/// (29: listed a moment after the last packet; the model lists at it) an unanswered UDP datagram as `... dport=5555 packets=1 bytes=31 [UNREPLIED] src=... packets=0 bytes=0 mark=0 use=1`,
/// and an entry made after the sysctl went back to 0 without packets=/bytes= (the accounting extension
/// is added when the entry is made).
/// </summary>
public class CtAcctListingTests
{
    private static ConntrackListing[] PingThrice(string sysctl, string rule)
    {
        var engine = OneHostLab.Engine(sysctl, "type filter hook input priority filter; policy accept;\n" + rule);
        for (int seq = 1; seq <= 3; seq++) OneHostLab.Send(engine, seq, seq * 200_000_000L, IpProtocol.Icmp, FrameBuilder.IcmpEcho(5696, (ushort)seq));
        return NfStateListing.Conntrack(engine.States[0]).ToArray();
    }

    [Fact]
    public void WithTheSysctlOnEachDirectionListsPacketsAndBytesAfterItsTuple()
    {
        var e = Assert.Single(PingThrice("sysctl -w net.netfilter.nf_conntrack_acct=1", "ct state new counter"));
        Assert.Equal((3ul, 252ul, 3ul, 252ul), (e.OriginalPackets, e.OriginalBytes, e.ReplyPackets, e.ReplyBytes));
        Assert.Equal("icmp     1 30 src=192.168.1.2 dst=192.168.1.1 type=8 code=0 id=5696 packets=3 bytes=252 "
            + "src=192.168.1.1 dst=192.168.1.2 type=0 code=0 id=5696 packets=3 bytes=252 mark=0 use=1", e.Line);
    }

    [Fact]
    public void WithoutAccountingNothingIsListed()
    {
        var e = Assert.Single(PingThrice("", "ct state new counter"));
        Assert.Null(e.OriginalPackets);
        Assert.Null(e.ReplyBytes);
        Assert.DoesNotContain("packets=", e.Line);
    }

    [Fact]
    public void ARuleReadingCtPacketsTurnsAccountingOn()
    {
        var e = Assert.Single(PingThrice("", "ct packets > 100 drop"));
        Assert.Equal((3ul, 3ul), (e.OriginalPackets, e.ReplyPackets));
        Assert.Contains(" packets=3 bytes=252 src=", e.Line);
    }

    [Fact]
    public void AnUnrepliedEntryListsItsCountersBeforeTheBracket()
    {
        // no socket on 5555: the host's port unreachable is RELATED, counted in neither direction
        var engine = OneHostLab.Engine("sysctl -w net.netfilter.nf_conntrack_acct=1", "type filter hook input priority filter; policy accept;\nct state new counter");
        OneHostLab.Send(engine, 1, 1_000_000_000L, IpProtocol.Udp, FrameBuilder.UdpWithPayload(OneHostLab.Client, OneHostLab.Server, 52492, 5555, "hi\n"u8));
        var e = Assert.Single(NfStateListing.Conntrack(engine.States[0]));
        Assert.Equal("udp      17 30 src=192.168.1.2 dst=192.168.1.1 sport=52492 dport=5555 packets=1 bytes=31 [UNREPLIED] "
            + "src=192.168.1.1 dst=192.168.1.2 sport=5555 dport=52492 packets=0 bytes=0 mark=0 use=1", e.Line);
    }
}
