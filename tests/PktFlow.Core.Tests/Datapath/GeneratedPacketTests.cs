using PktFlow.Capture;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Datapath;

/// <summary>
/// Packets the kernel generates are child traces of their cause, and in Observe mode the frame the
/// capture shows the kernel sending is recognised as that child. The bytes the model built are
/// compared with the bytes the kernel sent, in the recorded scenarios.
/// </summary>
public class GeneratedPacketTests
{
    private static string Scenario(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    private static (Dictionary<long, PacketTrace> Traces, Dictionary<long, byte[]> Frames) Replay(string name)
    {
        var dir = Scenario(name);
        var record = KernelRecord.Load(Path.Combine(dir, "kernel.json"));
        var runner = new ReplayRunner(new ReplayOptions { Topology = LabLoader.LoadFile(Path.Combine(dir, "lab.sh")), InjectAt = record.Wire });
        var traces = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().Select(e => e.Trace).ToDictionary(t => t.Frame);
        using var reader = CaptureReader.Open(Path.Combine(dir, "wire.pcap"));
        var frames = new Dictionary<long, byte[]>();
        while (reader.Read(out var f, out _) == CaptureReadStatus.Frame) frames[f.Number] = f.Data.ToArray();
        return (traces, frames);
    }

    /// <summary>Captured frame &lt;- the frame that caused it, for every packet the kernel of the wire namespace (or one behind it) generated.</summary>
    [Theory]
    [InlineData("local-delivery-sockets", "2<1 4<3 14<13 17<16 19<18")]
    [InlineData("reject-input", "2<1 4<3 6<5 8<7 10<9 12<11 14<13 16<15 22<21")]
    [InlineData("reject-forward", "2<1 6<5 8<7 10<9 12<11 14<13 16<15 22<21")]
    [InlineData("ttl-expiry", "2<1 4<3 6<5 8<7 10<9 12<11")]
    [InlineData("mtu-fragmentation", "2<1 4<3")]
    [InlineData("arp-nd", "2<1 4<3 6<5 8<7 13<12 20<19")]
    [InlineData("neigh-unresolved", "6<3 7<4 8<5 10<9 14<13 21<19 22<20")]
    public void TheCapturedAnswerIsTheChildTraceOfItsCause(string scenario, string pairs)
    {
        var (traces, frames) = Replay(scenario);
        foreach (var pair in pairs.Split(' '))
        {
            long sent = long.Parse(pair.Split('<')[0]), cause = long.Parse(pair.Split('<')[1]);
            var captured = traces[sent];
            Assert.True(captured.CausedBy == cause, $"{scenario} frame {sent} ({captured.Summary}): CausedBy {captured.CausedBy?.ToString() ?? "null"}, expected {cause}; notes: {string.Join("; ", captured.Notes)}");
            var child = Assert.Single(traces[cause].GeneratedTraces, c => c.GeneratedNetwork!.AsSpan().SequenceEqual(captured.GeneratedNetwork));
            Assert.Equal(cause, child.CausedBy);
            Assert.Equal(child.Fate, captured.Fate);
            Assert.Equal(child.Path.Count, captured.Path.Count);
            SameBytes(scenario, sent, child, frames[sent]);
        }
    }

    /// <summary>
    /// icmp-ratelimit (recorded): the per-destination token bucket (burst 6, one message per
    /// icmp_ratelimit) thins out port unreachables and echo replies exactly where the kernel did, and
    /// r2, whose icmp_msgs_per_sec is 0, never answers. Frames numbered as in wire.pcap.
    /// </summary>
    [Fact]
    public void RateLimitsHoldBackWhatTheKernelHeldBack()
    {
        var (traces, _) = Replay("icmp-ratelimit");
        long[] answered = { 1, 5, 7, 9, 11, 13, 19, 21, 23, 25, 27, 29, 34, 38, 40, 42 };
        long[] limited = { 15, 16, 17, 18, 31, 32, 33, 36, 37 };
        foreach (var f in answered)
            Assert.True(traces.Values.Count(x => x.CausedBy == f && x.GeneratedBy is null) == 1, $"frame {f} ({traces[f].Summary}) should be answered: {string.Join("; ", traces[f].Generated)}");
        foreach (var f in limited)
        {
            Assert.Contains(traces[f].Generated, g => g.Contains("not sent (inet_peer_xrlim_allow", StringComparison.Ordinal));
            Assert.Empty(traces[f].GeneratedTraces);
        }
        foreach (var f in new long[] { 44, 45 }) // expire at r2: its global credit never refills
            Assert.Contains(traces[f].Generated, g => g.Contains("not sent (icmp_global_allow", StringComparison.Ordinal));
        var echoes = traces.Values.Where(t => t.Summary.Contains("echo request", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, echoes.Count);
        Assert.Equal(6, echoes.Count(e => e.GeneratedTraces.Count == 1)); // echo replies are in this lab's ratemask
    }

    /// <summary>
    /// icmp6-ratelimit (recorded): this kernel's ICMPv6 limits. The host's buckets (net.ipv6.icmp.ratelimit
    /// left at its default, 100 ms) answer 6 of a back-to-back burst of 9 closed-port datagrams whether
    /// the route back is a /64, a /128 or the default route (no prefix-length scaling any more); time
    /// exceeded draws on the same bucket; packet too big and echo replies are outside the default
    /// ratemask. r2 (ratemask 2-3,129) limits packet too big, time exceeded and echo replies but not
    /// port unreachables; r3 (icmp_msgs_per_sec 0) sends only echo replies. Frames numbered as in wire.pcap.
    /// </summary>
    [Fact]
    public void Icmp6RateLimitsHoldBackWhatTheKernelHeldBack()
    {
        var (traces, _) = Replay("icmp6-ratelimit");
        string Notes(long f) => $"frame {f} ({traces[f].Summary}): {string.Join("; ", traces[f].Generated)}";
        void Answered(params long[] frames)
        {
            foreach (var f in frames)
                Assert.True(traces.Values.Count(x => x.CausedBy == f && x.GeneratedBy is null) == 1, "should be answered: " + Notes(f));
        }
        void Held(string by, params long[] frames)
        {
            foreach (var f in frames)
            {
                Assert.True(traces[f].Generated.Any(g => g.Contains($"not sent ({by}", StringComparison.Ordinal)), $"should be held back by {by}: " + Notes(f));
                Assert.Empty(traces[f].GeneratedTraces);
            }
        }
        Answered(1, 5, 7, 9, 11, 13);           // 2001:db8:1::2, the connected /64
        Held("inet_peer_xrlim_allow", 15, 16, 17);
        Answered(18, 22, 24, 26, 28, 30);       // 2001:db8:1::4, a /128 route
        Held("inet_peer_xrlim_allow", 32, 33, 34);
        Answered(35, 37, 39, 41, 43, 45);       // 2001:db8:99::5, the default route
        Held("inet_peer_xrlim_allow", 47, 48, 49);
        Answered(50, 52, 54, 56, 58, 60, 64, 66, 68, 70); // 120 ms apart: 100 ms refills a message
        Answered(72, 74, 76, 78, 80, 82);       // six port unreachables empty the bucket...
        Held("inet_peer_xrlim_allow", 84, 85, 86); // ...which time exceeded shares
        Answered(87, 89, 91);                   // packet too big: not in the host's ratemask
        Answered(95, 97, 99, 101, 103, 105, 107, 109); // r2: port unreachable is not in its ratemask
        Answered(111, 113, 115, 117, 119, 121);        // r2: packet too big is
        Held("inet_peer_xrlim_allow", 123, 124, 125, 126);
        Answered(127, 131, 133, 135, 137, 139);        // r2: so are echo replies
        Held("inet_peer_xrlim_allow", 141, 142);
        Answered(143, 145, 147, 149, 151, 153, 155, 157); // the host's echo replies are not limited
        Held("icmp_global_allow", 159, 160, 163, 164);    // r3: no global credit ever
        Answered(165, 167);                               // but echo replies are not in its mask
    }

    /// <summary>
    /// The built packet against the captured one, byte for byte from the network header on, except
    /// what the model cannot know: the IPv4 id (ip_select_ident hashes a boot-time secret) and so the
    /// header checksum, the IPv6 flow label (auto flow labels hash the flow with a per-boot key), and
    /// the TTL / hop limit of a packet that routers between its sender and the capture decremented.
    /// </summary>
    private static void SameBytes(string scenario, long frame, PacketTrace child, byte[] wire)
    {
        var built = child.GeneratedNetwork!;
        var captured = wire.AsSpan(14, Math.Min(wire.Length - 14, built.Length)).ToArray();
        Assert.True(wire.Length - 14 >= built.Length, $"{scenario} frame {frame}: captured {wire.Length - 14} bytes after Ethernet, built {built.Length}");
        bool forwarded = child.Path.Select(e => e.Namespace).Distinct().Count() > 1 && child.Path.Any(e => e.Stage is "IpForward" or "Ip6Forward");
        var mask = new bool[built.Length];
        if ((built[0] >> 4) == 4)
        {
            mask[4] = mask[5] = mask[10] = mask[11] = true;
            if (forwarded) mask[8] = true;
        }
        else if ((built[0] >> 4) == 6)
        {
            captured[1] = (byte)((captured[1] & 0xF0) | (built[1] & 0x0F)); // the flow label's top nibble
            mask[2] = mask[3] = true;
            if (forwarded) mask[7] = true;
        }
        for (int i = 0; i < built.Length; i++)
            if (!mask[i] && built[i] != captured[i])
                Assert.Fail($"{scenario} frame {frame} ({child.Summary}): byte {i} is 0x{captured[i]:x2} on the wire, the model built 0x{built[i]:x2}\n wire  {Convert.ToHexString(captured)}\n model {Convert.ToHexString(built)}");
    }
}
