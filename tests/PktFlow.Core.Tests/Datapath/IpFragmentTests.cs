using System.Buffers.Binary;
using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.IPv4;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Tests.Judge;
using PktFlow.Wire;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// ip_fragment / ip_do_fragment: the fragments of a forwarded datagram too big for the out device, and
/// of one conntrack reassembled, against what the kernel (6.18) sent in the recorded
/// ip-fragment-forward scenario (host-eth1-out.pcap: every frame the host sent on eth1).
/// </summary>
public class IpFragmentTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "ip-fragment-forward");

    /// <summary>A UDP-like datagram: header (with <paramref name="options"/>), payload bytes 0,1,2...</summary>
    private static byte[] Datagram(int total, ushort flags, params byte[] options)
    {
        int hlen = 20 + options.Length;
        var b = new byte[total];
        b[0] = (byte)(0x40 | hlen / 4);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), flags);
        b[8] = 63; b[9] = 17;
        new byte[] { 10, 1, 0, 2, 10, 2, 0, 2 }.CopyTo(b, 12);
        options.CopyTo(b, 20);
        for (int i = hlen; i < total; i++) b[i] = (byte)i;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum.Internet(b.AsSpan(0, hlen)));
        return b;
    }

    private static void Valid(IpFragment.Piece p)
    {
        Assert.True(Ipv4Header.TryParse(p.Network, out var ip, out _));
        Assert.Null(ip.HeaderProblem()); // checksum and lengths
        Assert.Equal(0x1234, ip.Identification);
    }

    [Fact]
    public void SlowPathCutsAtTheMtuInMultiplesOfEightAndNoopsUncopiedOptionsAfterTheFirst()
    {
        // router alert (copied) and option 30 (not copied)
        var d = Datagram(1400, 0, 0x94, 4, 0, 0, 0x1e, 4, 0xab, 0xcd);
        var pieces = IpFragment.Split(d, 1280, null, out bool fast);
        Assert.False(fast);
        Assert.Equal(new[] { 1276, 152 }, pieces.Select(p => p.Network.Length));
        Assert.Equal(new[] { 0, 1248 }, pieces.Select(p => p.Offset));
        Assert.Equal(new[] { true, false }, pieces.Select(p => p.More));
        pieces.ForEach(Valid);
        Assert.Equal(new byte[] { 0x94, 4, 0, 0, 0x1e, 4, 0xab, 0xcd }, pieces[0].Network[20..28]);
        Assert.Equal(new byte[] { 0x94, 4, 0, 0, 1, 1, 1, 1 }, pieces[1].Network[20..28]);
        // the payload, put back together, is the datagram's
        Assert.Equal(d[28..], pieces.SelectMany(p => p.Network[28..]).ToArray());
    }

    [Fact]
    public void AReassembledDatagramLeavesAlongItsArrivalBoundariesWithDfCleared()
    {
        var d = Datagram(2020, 0x4000); // reassembled with DF (IPSKB_FRAG_PMTU)
        var info = new IpFragInfo(1020, true, new[] { 480, 1000, 520 });
        var pieces = IpFragment.Split(d, 1280, info, out bool fast);
        Assert.True(fast);
        Assert.Equal(new[] { 500, 1020, 540 }, pieces.Select(p => p.Network.Length));
        Assert.All(pieces, p => Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(p.Network.AsSpan(6)) & 0x4000));
        pieces.ForEach(Valid);
    }

    [Fact]
    public void FragmentsLargerThanTheMtuAreCutAgainKeepingDfOnlyForFragPmtu()
    {
        var d = Datagram(2420, 0x4000);
        var pieces = IpFragment.Split(d, 1280, new IpFragInfo(1396, true, new[] { 1376, 1024 }), out bool fast);
        Assert.False(fast);
        Assert.Equal(new[] { 1276, 1164 }, pieces.Select(p => p.Network.Length));
        Assert.All(pieces, p => Assert.NotEqual(0, BinaryPrimitives.ReadUInt16BigEndian(p.Network.AsSpan(6)) & 0x4000));
        // without IPSKB_FRAG_PMTU the pieces carry no DF
        pieces = IpFragment.Split(Datagram(2420, 0), 1280, new IpFragInfo(1396, false, new[] { 1376, 1024 }), out _);
        Assert.All(pieces, p => Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(p.Network.AsSpan(6)) & 0x4000));
    }

    [Fact]
    public void AFragmentCutAgainKeepsItsOffsetAndItsMoreFragmentsBit()
    {
        var d = Datagram(1420, 0x2000 | 100); // offset 800, MF
        var pieces = IpFragment.Split(d, 1000, null, out _);
        Assert.Equal(new[] { 800, 1776 }, pieces.Select(p => p.Offset));
        Assert.All(pieces, p => Assert.True(p.More));
    }

    /// <summary>
    /// How a fragmented packet reads: IpDoFragment lists the fragments, every fragment's walk follows
    /// (IpFragment stages, into the server's reassembly), the trace ends with the last fragment and a
    /// note gives each earlier one's fate. The DF datagram reassembled from fragments that fit is
    /// forwarded (ignore_df); the one whose fragments did not fit gets fragmentation needed.
    /// </summary>
    [Fact]
    public void TheTraceFollowsTheLastFragmentAndShowsTheOthers()
    {
        var record = KernelRecord.Load(Path.Combine(Dir, "kernel.json"));
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")), InjectAt = record.Wire });
        var traces = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        var t5 = traces[5]; // 3008 bytes whole: three fragments
        var split = Assert.Single(t5.Path, e => e.Stage == "IpDoFragment");
        Assert.Contains("3 fragments cut at MTU 1280: 1276 (offset 0, MF), 1276 (offset 1256, MF), 496 (offset 2512)", split.Detail);
        Assert.Equal(3, t5.Path.Count(e => e.Stage == "IpFragment"));
        Assert.Equal(2, t5.Path.Count(e => e.Namespace == "server" && e.Stage == "IpDefrag" && e.Verdict == PktFlow.Verdict.Stolen));
        Assert.Equal(2, t5.Notes.Count(n => n.StartsWith("fragment ", StringComparison.Ordinal) && n.Contains("Consumed", StringComparison.Ordinal)));
        Assert.Equal("server", t5.Path[^1].Namespace);
        Assert.Contains("along the boundaries it arrived in", Assert.Single(traces[15].Path, e => e.Stage == "IpDoFragment").Detail);
        Assert.Single(traces[22].Path, e => e.Stage == "IpDoFragment");
        Assert.DoesNotContain(traces[22].Path, e => e.Verdict == PktFlow.Verdict.Drop);
        Assert.Equal(PktFlow.Fate.Dropped, traces[25].Fate);
        Assert.Equal("PKT_TOO_BIG", traces[25].Reason);
    }

    /// <summary>
    /// The recorded scenario replayed frame by frame: everything the model transmits on host/eth1 is,
    /// byte for byte from the IP header on, what the kernel sent there (TTL, id, offsets, MF/DF,
    /// options, checksums, payload), in the same order.
    /// </summary>
    [Fact]
    public void TheFragmentsTheModelSendsAreTheKernels()
    {
        var sent = RecordedTransmits.Model(Dir, "host/eth0", "10.1.0.2", "host", "eth1");
        var kernel = RecordedTransmits.Kernel(Path.Combine(Dir, "host-eth1-out.pcap"));
        Assert.Equal(18, kernel.Count);
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan(14).SequenceEqual(sent[i].AsSpan(14)),
                $"fragment {i + 1}: kernel {Convert.ToHexString(kernel[i].AsSpan(14, 28))}, model {Convert.ToHexString(sent[i].AsSpan(14, Math.Min(28, sent[i].Length - 14)))}");
    }
}
