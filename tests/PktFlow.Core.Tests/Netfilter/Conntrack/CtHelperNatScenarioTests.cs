using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The recorded ct-helper-natftp scenario (Linux 6.18, tcpdump -i any on the router): the NAT helpers
/// agree with the kernel on every frame and on the conntrack table, and the segments the router sent
/// out of eth1 (the rewritten PORT/EPRT, and every later one with its numbers adjusted) are, from the IP
/// header on, byte for byte those the capture shows leaving there.
/// </summary>
public class CtHelperNatScenarioTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "ct-helper-natftp");

    [Fact]
    public void EveryFrameAndTheConntrackTable_AgreeWithTheKernel()
    {
        var j = ScenarioJudge.Judge(Dir);
        var wrong = j.Frames.Where(f => f.Judged && !f.Agrees).Select(f => $"{f.Frame} {f.Summary}: {string.Join("; ", f.Differences)}").ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.True(j.Conntrack.Agreed == j.Conntrack.Total, string.Join("\n", j.Conntrack.Differences));
    }

    [Fact]
    public void TheTracesNameTheRewriteTheAdjustmentAndTheFollowedNat()
    {
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { LabPath = Path.Combine(Dir, "lab.sh"), InjectAt = "host/any" });
        var events = runner.Run(Path.Combine(Dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().SelectMany(e => e.Trace.Path).ToList();
        string[] Details(string stage) => events.Where(e => e.Stage == stage).Select(e => e.Detail!).ToArray();
        Assert.Contains(Details("NfConntrackHelper"), d => d.Contains("nf_nat_ftp rewrites `192,168,10,2,156,67' as `10,2,0,1,156,67' (-4 bytes", StringComparison.Ordinal));
        Assert.Contains(Details("NfConntrackHelper"), d => d.Contains("nf_nat_ftp rewrites `|1|192.168.10.2|40004|' as `|1|10.2.0.1|40004|'", StringComparison.Ordinal));
        Assert.Contains(Details("NfConntrackHelper"), d => d.Contains("nf_nat_ftp rewrites `192,168,10,2,156,71' as `10,2,0,1,156,71'", StringComparison.Ordinal));
        Assert.Contains(Details("NfConntrackHelper"), d => d.StartsWith("helper tftp: read request: nf_nat_tftp: expectation", StringComparison.Ordinal));
        // PORT, EPRT and both 227s of the published server change length; the outside server's 227 and the 229 keep it
        Assert.Equal(4, Details("NfNatMangleTcpPacket").Count(d => !SameLength(d)));
        Assert.Equal(6, Details("NfNatMangleTcpPacket").Length);
        Assert.Contains(Details("NfCtSeqAdjust"), d => d.Contains("seq ", StringComparison.Ordinal));
        Assert.Contains(Details("NfCtSeqAdjust"), d => d.Contains("ack ", StringComparison.Ordinal));
        // 41001 (masqueraded), 40003 and 40004 back to the LAN host, 40007 and 40008 to the published server, the TFTP answer
        Assert.Equal(6, Details("NfNatFollowMaster").Length);
    }

    private static bool SameLength(string mangle) => mangle.Split(" -> ") is [var a, var b] && a.Split(' ')[^1] == b.Split(' ')[0];

    [Fact]
    public void ThePacketsSentOutOfEth1_AreTheKernelsByteForByte()
    {
        var sent = new List<byte[]>();
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions
        {
            LabPath = Path.Combine(Dir, "lab.sh"), InjectAt = "host/any",
            OnTransmit = (ns, dev, frame) => { if (ns == "host" && dev == "eth1" && frame.Length > 14 && frame[12] == 0x08 && frame[13] == 0) sent.Add(frame[14..]); },
        });
        foreach (var _ in runner.Run(Path.Combine(Dir, "wire.pcap"))) { }
        // the capture's copies leaving eth1 (cooked v2: protocol, ifindex at 4, packet type 4 = outgoing at 10)
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "kernel.json")));
        int eth1 = record.RootElement.GetProperty("namespaces").GetProperty("host").GetProperty("devices").GetProperty("eth1").GetProperty("ifindex").GetInt32();
        var kernel = new List<byte[]>();
        using (var reader = CaptureReader.Open(Path.Combine(Dir, "wire.pcap")))
            while (reader.Read(out var f, out _) == CaptureReadStatus.Frame)
            {
                var d = f.Data.Span;
                if (f.LinkType == LinkType.LinuxSll2 && d.Length > 20 && d[0] == 0x08 && d[1] == 0 && d[10] == 4 && System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(d[4..]) == eth1)
                    kernel.Add(d[20..].ToArray());
            }
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan().SequenceEqual(sent[i]), $"packet {i + 1} out of eth1: kernel {Convert.ToHexString(kernel[i])}, model {Convert.ToHexString(sent[i])}");
    }
}
