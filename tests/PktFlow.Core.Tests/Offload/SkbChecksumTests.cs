using PktFlow.Datapath;
using PktFlow.Offload;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Offload;

/// <summary>
/// Receive-side checksum validation on skb->ip_summed (<see cref="SkbChecksum"/>): computed for
/// CHECKSUM_NONE (the skb left CHECKSUM_COMPLETE with the result), trusted for UNNECESSARY and PARTIAL,
/// the capture's pseudo-header sum taken as PARTIAL with a note, UDP without a checksum only over IPv4.
/// </summary>
public class SkbChecksumTests
{
    private static readonly IpAddr S = IpAddr.Parse("10.1.0.2"), D = IpAddr.Parse("10.1.0.1");
    private static readonly IpAddr S6 = IpAddr.Parse("2001:db8::2"), D6 = IpAddr.Parse("2001:db8::1");

    private static SkBuff Skb(IpSummed summed = IpSummed.None)
    {
        var topo = LabLoader.Load("ip link set lo up\n", "t.lab");
        var ns = topo.Namespaces[0];
        return new SkBuff(new byte[40]) { Netns = ns, Dev = ns.Devices[0], Engine = new DatapathEngine(topo), IpSummed = summed };
    }

    private static byte[] Corrupt(byte[] l4, int at)
    {
        l4[at] ^= 0x5a;
        return l4;
    }

    private static byte[] WithField(byte[] l4, int at, ushort value)
    {
        l4[at] = (byte)(value >> 8);
        l4[at + 1] = (byte)value;
        return l4;
    }

    [Fact]
    public void AGoodChecksumIsVerifiedAndLeavesTheSkbComplete()
    {
        var skb = Skb();
        Assert.Equal(CsumCheck.Good, SkbChecksum.Validate(skb, S, D, IpProtocol.Tcp, FrameBuilder.Tcp(S, D, 40000, 80)));
        Assert.Equal((IpSummed.Complete, true), (skb.IpSummed, skb.CsumValid));
    }

    [Theory]
    [InlineData(IpProtocol.Tcp, 16)]
    [InlineData(IpProtocol.Udp, 6)]
    [InlineData(IpProtocol.Icmp, 2)]
    public void ABadChecksumIsFoundWhenNothingVerifiedIt(byte protocol, int at)
    {
        var l4 = protocol switch
        {
            IpProtocol.Tcp => FrameBuilder.Tcp(S, D, 40000, 80),
            IpProtocol.Udp => FrameBuilder.Udp(S, D, 40000, 53),
            _ => FrameBuilder.IcmpEcho(7, 1, 8),
        };
        var skb = Skb();
        var c = SkbChecksum.Validate(skb, S, D, protocol, Corrupt(l4, at));
        Assert.True(c.Bad);
        Assert.Contains("is wrong", c.Note);
        Assert.Equal((IpSummed.Complete, false), (skb.IpSummed, skb.CsumValid));
        // without an skb the bytes are taken as CHECKSUM_NONE too
        Assert.True(SkbChecksum.Validate(null, S, D, protocol, l4).Bad);
    }

    [Theory]
    [InlineData(IpSummed.Unnecessary)]
    [InlineData(IpSummed.Partial)]
    public void UnnecessaryAndPartialAreNeverVerified(IpSummed summed)
    {
        var skb = Skb(summed);
        Assert.Equal(CsumCheck.Good, SkbChecksum.Validate(skb, S, D, IpProtocol.Tcp, Corrupt(FrameBuilder.Tcp(S, D, 40000, 80), 16)));
        Assert.Equal(summed, skb.IpSummed);
    }

    [Fact]
    public void ThePseudoHeaderSumIsAssumedPartialAndSaidSo()
    {
        var l4 = FrameBuilder.Tcp(S, D, 40000, 80);
        WithField(l4, 16, Checksum.Fold(Checksum.PseudoHeader(S, D, IpProtocol.Tcp, l4.Length)));
        var skb = Skb();
        var c = SkbChecksum.Validate(skb, S, D, IpProtocol.Tcp, l4);
        Assert.False(c.Bad);
        Assert.Equal(SkbChecksum.PartialAssumed, c.Note);
        Assert.Equal((IpSummed.Partial, true), (skb.IpSummed, skb.CsumAssumed));
        // a later check on the same skb repeats the assumption rather than computing
        Assert.Equal(SkbChecksum.PartialAssumed, SkbChecksum.Validate(skb, S, D, IpProtocol.Tcp, l4).Note);
        // ICMP has no pseudo-header, so no such sum is ever left for offload
        var echo = WithField(FrameBuilder.IcmpEcho(7, 1, 8), 2, Checksum.Fold(Checksum.PseudoHeader(S, D, IpProtocol.Icmp, 16)));
        Assert.True(SkbChecksum.Validate(Skb(), S, D, IpProtocol.Icmp, echo).Bad);
    }

    [Fact]
    public void UdpWithoutAChecksumIsFineOverIpv4Only()
    {
        Assert.False(SkbChecksum.Validate(Skb(), S, D, IpProtocol.Udp, WithField(FrameBuilder.Udp(S, D, 40000, 53), 6, 0)).Bad);
        var c = SkbChecksum.Validate(Skb(), S6, D6, IpProtocol.Udp, WithField(FrameBuilder.Udp(S6, D6, 40000, 53), 6, 0));
        Assert.True(c.Bad);
        Assert.Contains("not allowed over IPv6", c.Note);
    }

    [Fact]
    public void ForwardingDropsACompleteSumOnly()
    {
        var complete = Skb(IpSummed.Complete);
        SkbChecksum.ForwardCsum(complete);
        Assert.Equal(IpSummed.None, complete.IpSummed);
        var partial = Skb(IpSummed.Partial);
        SkbChecksum.ForwardCsum(partial);
        Assert.Equal(IpSummed.Partial, partial.IpSummed);
    }
}
