using System.Buffers.Binary;
using PktFlow.Wire;
using Xunit;

namespace PktFlow.Tests.Wire;

public class SctpHeaderTests
{
    [Fact]
    public void Crc32c_matches_the_rfc_3720_vectors_and_a_packet_scapy_built()
    {
        // RFC 3720 B.4: 32 bytes of zeros -> 0x8a9136aa, 32 bytes of 0xff -> 0x62a8ab43 (the checksum
        // field, bytes 8-11, is read as zero: it holds zero or ones here, so only the ones vector cares)
        Assert.Equal(0x8a9136aau, SctpHeader.Crc32c(new byte[32]));
        var inc = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        Assert.NotEqual(SctpHeader.Crc32c(inc), SctpHeader.Crc32c(inc.Select((b, i) => i == 20 ? (byte)0xff : b).ToArray()));
        // INIT 10.1.0.2:5000 -> 203.0.113.53:3868, init tag 0x0a0a0a0a, as scapy computed it (bytes 41 49 ae aa)
        var init = Convert.FromHexString("13880f1c000000004149aeaa010000140a0a0a0a0000ffff0001000100000001");
        Assert.True(SctpHeader.TryParse(init, out var sh, out _));
        Assert.Equal(0xaaae4941u, sh.Checksum);
        Assert.Equal(sh.Checksum, sh.ComputeChecksum());
        Assert.Equal((5000, 3868, 0u), (sh.SourcePort, sh.DestinationPort, sh.VerificationTag));
    }

    [Fact]
    public void Chunks_are_walked_on_four_byte_boundaries_and_clamped_to_the_bytes_present()
    {
        // DATA of length 17 (padded to 20), SACK of length 16, then a chunk claiming 40 bytes with 8 present
        var p = new byte[12 + 20 + 16 + 8];
        p[12] = SctpChunkType.Data; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(14), 17);
        p[32] = SctpChunkType.Sack; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(34), 16);
        p[48] = SctpChunkType.CookieEcho; BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(50), 40);
        Assert.True(SctpHeader.TryParse(p, out var sh, out _));
        var seen = new List<(byte, int, int)>();
        foreach (var c in sh.Chunks) seen.Add((c.Type, c.Length, c.Data.Length));
        Assert.Equal([(SctpChunkType.Data, 17, 17), (SctpChunkType.Sack, 16, 16), (SctpChunkType.CookieEcho, 40, 8)], seen);
    }

    [Fact]
    public void A_zero_length_chunk_ends_the_walk_and_short_input_is_refused()
    {
        var p = new byte[12 + 8];
        p[12] = SctpChunkType.Data; // length 0
        Assert.True(SctpHeader.TryParse(p, out var sh, out _));
        int n = 0;
        foreach (var c in sh.Chunks) { n++; Assert.Equal(0, c.Length); }
        Assert.Equal(1, n);
        Assert.False(SctpHeader.TryParse(new byte[11], out _, out var error));
        Assert.Contains("SCTP header 11 bytes", error);
    }

    [Fact]
    public void Nat_writes_the_port_and_computes_the_crc32c_again()
    {
        var body = Convert.FromHexString("13880f1c000000004149aeaa010000140a0a0a0a0000ffff0001000100000001");
        var ip = FrameBuilder.Ipv4("203.0.113.53", "203.0.113.1", IpProtocol.Sctp, body);
        Assert.True(AddressRewrite.Rewrite(ip, false, source: false, IpAddr.Parse("10.1.0.2"), 3869, out var oldAddress, out var oldPort));
        Assert.Equal((IpAddr.Parse("203.0.113.1"), (ushort?)3868), (oldAddress, oldPort));
        Assert.True(SctpHeader.TryParse(ip.AsSpan(20), out var sh, out _));
        Assert.Equal(3869, sh.DestinationPort);
        Assert.Equal(sh.ComputeChecksum(), sh.Checksum);
        Assert.NotEqual(0xaaae4941u, sh.Checksum);
        Assert.True(Ipv4Header.TryParse(ip, out var h, out _) && h.HeaderChecksumValid);
    }
}
