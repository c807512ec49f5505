using System.Buffers.Binary;
using PktFlow.Wire;
using static PktFlow.Tests.Wire.FrameBuilder;

namespace PktFlow.Tests.Wire;

/// <summary>Malformed input never throws: random bytes (fixed seeds) through every view and the summariser.</summary>
public class WirePropertyTests
{
    private static readonly int[] EtherTypesToTry = [0, 0x0800, 0x86DD, 0x0806];

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var rng = new Random(20240601);
        var buf = new byte[256];
        Span<char> text = stackalloc char[PacketSummary.MaxLength];
        for (int i = 0; i < 100_000; i++)
        {
            int len = rng.Next(0, 160);
            var data = buf.AsSpan(0, len);
            rng.NextBytes(data);
            Shape(rng, data);
            TouchAll(data);
            foreach (int et in EtherTypesToTry)
                PacketSummary.Format(data, et, len + rng.Next(0, 3) * rng.Next(0, 2000), text);
        }
    }

    [Fact]
    public void MutatedSamples_NeverThrow()
    {
        var rng = new Random(7);
        var samples = WireSamples.All();
        var session = new PacketSummarySession();
        for (int i = 0; i < 30_000; i++)
        {
            var s = samples[rng.Next(samples.Count)];
            var frame = (byte[])s.Frame.Clone();
            int flips = rng.Next(1, 6);
            for (int f = 0; f < flips; f++) frame[rng.Next(frame.Length)] = (byte)rng.Next(256);
            int len = rng.Next(2) == 0 ? frame.Length : rng.Next(frame.Length + 1);
            var data = frame.AsSpan(0, len);
            TouchAll(data);
            if (data.Length > 14) TouchAll(data[14..]);
            _ = PacketSummary.Format(data, 0, s.WireLength, session);
            if (data.Length > 14) _ = PacketSummary.Format(data[14..], 0x0800, Math.Max(0, s.WireLength - 14), session);
        }
    }

    /// <summary>Makes random bytes look like real headers often enough to reach the deeper layers.</summary>
    private static void Shape(Random rng, Span<byte> d)
    {
        if (rng.Next(3) == 0 || d.Length < 15) return;
        ushort[] types = [0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8];
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], types[rng.Next(types.Length)]);
        int ip = 14;
        if (rng.Next(2) == 0) d[ip] = (byte)(0x45 + rng.Next(0, 3));
        else d[ip] = 0x60;
        byte[] protos = [6, 17, 1, 58, 0, 43, 44, 60, 51, 50, 59, 4, 41, 47, 2];
        if (d.Length > ip + 9) d[ip + 9] = protos[rng.Next(protos.Length)];
        if (d.Length > ip + 6 && d[ip] == 0x60) d[ip + 6] = protos[rng.Next(protos.Length)];
        if (d.Length > ip + 3 && rng.Next(2) == 0)
            BinaryPrimitives.WriteUInt16BigEndian(d[(ip + 2)..], (ushort)(d.Length - ip - rng.Next(0, 3)));
    }

    /// <summary>Calls every parser and accessor on the bytes (results discarded).</summary>
    internal static long TouchAll(ReadOnlySpan<byte> d)
    {
        long acc = 0;
        if (EthernetFrame.TryParse(d, out var e, out _))
        {
            acc += (long)e.Destination.Value + (long)e.Source.Value + e.VlanCount + e.Vlan(0).Vid + e.Vlan(1).Pcp + e.EtherType + e.HeaderLength + e.Payload.Length;
        }
        if (ArpPacket.TryParseHeader(d, out var a, out _))
            acc += a.HardwareType + a.Operation + (long)a.SenderMac.Value + (long)a.TargetIp.Lo + (a.IsGratuitous ? 1 : 0) + a.DescribedLength;
        ArpPacket.TryParse(d, out _, out _);
        if (Ipv4Header.TryParse(d, out var v4, out _))
        {
            acc += v4.Version + v4.Ihl + v4.Dscp + v4.Ecn + v4.TotalLength + v4.Identification + v4.FragmentOffset + v4.Ttl + v4.Protocol
                + v4.HeaderChecksum + (long)v4.Source.Lo + (long)v4.Destination.Lo + v4.Options.Length + v4.Payload.Length + v4.Packet.Length
                + (v4.HeaderChecksumValid ? 1 : 0) + (v4.HeaderProblem()?.Length ?? 0) + (v4.LengthProblem(d.Length)?.Length ?? 0)
                + (v4.LengthProblem(d.Length - 7, true)?.Length ?? 0) + v4.ExpectedHeaderChecksum;
        }
        if (Ipv6Header.TryParse(d, out var v6, out _))
        {
            acc += v6.Version + v6.TrafficClass + v6.FlowLabel + v6.PayloadLength + v6.NextHeader + v6.HopLimit + (long)v6.Source.Hi
                + v6.Payload.Length + (v6.HeaderProblem()?.Length ?? 0) + (v6.LengthProblem(d.Length)?.Length ?? 0);
            Ipv6ExtensionHeaders.Walk(v6.NextHeader, v6.AfterFixedHeader, out var c);
            acc += c.UpperOffset + c.UpperProtocol + c.HeaderCount + c.FragmentOffset + c.SegmentsLeft + (c.Problem?.Length ?? 0) + c.JumboPayloadLength;
        }
        Ipv6ExtensionHeaders.Walk(d.Length > 0 ? d[0] : (byte)0, d, out var c2);
        acc += c2.UpperOffset;
        if (TcpHeader.TryParse(d, out var t, out _))
        {
            acc += t.SourcePort + t.DestinationPort + t.SequenceNumber + t.AcknowledgmentNumber + t.DataOffset + (int)t.Flags + t.Window
                + t.Checksum + t.UrgentPointer + t.Options.Length + t.Payload.Length + (t.HeaderProblem()?.Length ?? 0)
                + (t.Mss ?? 0) + (t.WindowScale ?? 0) + (t.SackPermitted ? 1 : 0);
            foreach (var o in t.EnumerateOptions())
                acc += o.Kind + o.Length + o.Data.Length + o.Mss + o.WindowScale + o.TsVal + o.TsEcr + o.SackBlockCount + o.SackLeft(0) + o.SackRight(3) + (o.IsWellFormed ? 1 : 0);
        }
        if (UdpHeader.TryParse(d, out var u, out _))
            acc += u.SourcePort + u.DestinationPort + u.Length + u.Checksum + u.Payload.Length + (u.LengthProblem(d.Length)?.Length ?? 0);
        if (IcmpHeader.TryParse(d, out var ic, out _))
            acc += ic.Type + ic.Code + ic.Checksum + ic.Identifier + ic.SequenceNumber + ic.RestOfHeader + ic.Pointer + ic.NextHopMtu
                + ic.Payload.Length + (ic.IsError ? 1 : 0) + (ic.ChecksumValid ? 1 : 0);
        if (Icmpv6Header.TryParse(d, out var i6, out _))
        {
            acc += i6.Type + i6.Code + i6.Checksum + i6.Identifier + i6.SequenceNumber + i6.Mtu + i6.Payload.Length + (long)i6.TargetAddress.Lo
                + (long)i6.RedirectDestination.Hi + (i6.Router ? 1 : 0) + i6.RaFlags + i6.RaRouterLifetime + i6.NdOptions.Length
                + (long)(i6.SourceLinkLayerAddress?.Value ?? 0) + (long)(i6.TargetLinkLayerAddress?.Value ?? 0) + (i6.NdProblem()?.Length ?? 0)
                + (i6.NdProblem(1)?.Length ?? 0);
            foreach (var o in i6.EnumerateNdOptions()) acc += o.Type + o.Length + o.Data.Length;
        }
        acc += Checksum.Internet(d) + (Checksum.IcmpValid(d) ? 1 : 0)
            + (Checksum.TransportValid(IpAddr.Parse("10.0.0.1"), IpAddr.Parse("10.0.0.2"), IpProtocol.Tcp, d) ? 1 : 0)
            + (Checksum.TransportValid(IpAddr.AnyV6, IpAddr.AnyV6, IpProtocol.Udp, d) ? 1 : 0);
        return acc;
    }
}

/// <summary>Parsing allocates nothing: the views are ref structs over the caller's bytes.</summary>
public class WireAllocationTests
{
    [Fact]
    public void ParsingFrames_AllocatesNothing()
    {
        byte[] tcp4 = Ether(EtherTypes.Ipv4, Ipv4("10.1.0.2", "10.1.0.1", 6,
            Tcp("10.1.0.2", "10.1.0.1", 40000, 80, 1, 2, TcpFlags.Syn, Concat(OptMss(1460), OptSackOk, OptTs(1, 0), OptNop, OptWscale(7)))));
        byte[] udp6 = Ether(MacB, MacA, EtherTypes.Ipv6, Ipv6("2001:db8::2", "2001:db8::1", 0,
            Concat(ExtHeader(44, []), FragmentHeader(17, 0, false, 9), Udp("2001:db8::2", "2001:db8::1", 1, 2, Bytes(20)))), (0x8100, 7));
        byte[] ns = Ether(EtherTypes.Ipv6, Ipv6("fe80::1", "ff02::1:ff00:1", 58,
            Icmpv6("fe80::1", "ff02::1:ff00:1", 135, 0, 0, Concat(Ipv6Addr("2001:db8::1"), [1, 1], MacA.ToBytes())), hopLimit: 255));
        byte[] arp = Pad60(Ether(EtherTypes.Arp, Arp(1, MacA, "10.1.0.2", MacAddress.Zero, "10.1.0.1")));
        var chars = new char[PacketSummary.MaxLength];

        long sink = Run(tcp4, udp6, ns, arp, chars); // warm up (JIT, statics)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) sink += Run(tcp4, udp6, ns, arp, chars);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(sink != 0);
        Assert.Equal(0, allocated);
    }

    private static long Run(byte[] tcp4, byte[] udp6, byte[] ns, byte[] arp, char[] chars)
    {
        long acc = 0;
        if (EthernetFrame.TryParse(tcp4, out var e, out _) && Ipv4Header.TryParse(e.Payload, out var ip, out _)
            && ip.HeaderProblem() is null && ip.LengthProblem(e.Payload.Length) is null && TcpHeader.TryParse(ip.Payload, out var t, out _))
        {
            acc += ip.Ttl + (long)ip.Source.Lo + t.SourcePort + (int)t.Flags + (t.HeaderProblem() is null ? 1 : 0);
            foreach (var o in t.EnumerateOptions()) acc += o.Kind + o.TsVal;
            acc += Checksum.TransportValid(ip.Source, ip.Destination, ip.Protocol, ip.Payload) ? 1 : 0;
        }
        if (EthernetFrame.TryParse(udp6, out e, out _) && Ipv6Header.TryParse(e.Payload, out var v6, out _)
            && v6.HeaderProblem() is null && v6.LengthProblem(e.Payload.Length) is null
            && Ipv6ExtensionHeaders.Walk(v6.NextHeader, v6.AfterFixedHeader, out var chain)
            && UdpHeader.TryParse(v6.Payload[chain.UpperOffset..], out var u, out _))
        {
            acc += e.Vlan(0).Vid + chain.HeaderCount + u.DestinationPort + u.Payload.Length + (u.LengthProblem(u.Data.Length) is null ? 1 : 0);
        }
        if (EthernetFrame.TryParse(ns, out e, out _) && Ipv6Header.TryParse(e.Payload, out v6, out _)
            && Icmpv6Header.TryParse(v6.Payload, out var nd, out _) && nd.NdProblem(v6.HopLimit) is null)
        {
            acc += (long)nd.TargetAddress.Lo + (long)(nd.SourceLinkLayerAddress?.Value ?? 0);
        }
        if (EthernetFrame.TryParse(arp, out e, out _) && ArpPacket.TryParse(e.Payload, out var a, out _))
            acc += a.Operation + a.TargetIp.V4Value;
        acc += PacketSummary.Format(tcp4, 0, tcp4.Length, chars);
        acc += PacketSummary.Format(udp6, 0, udp6.Length, chars);
        acc += PacketSummary.Format(ns, 0, ns.Length, chars);
        return acc;
    }
}
