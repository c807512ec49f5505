using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The recorded ct-helper-natftp and ct-helper-natftp6 scenarios (Linux 6.18, tcpdump -i any on the
/// router; IPv4 and IPv6): the NAT helpers agree with the kernel on every frame and on the conntrack
/// table, and the segments the router sent out of eth1 (the rewritten PORT/EPRT, and every later one
/// with its numbers adjusted) are, from the IP header on, byte for byte those the capture shows leaving there.
/// </summary>
public class CtHelperNatScenarioTests
{
    private static string Dir => Scenario("ct-helper-natftp");
    private static string Scenario(string name) => Path.Combine(RepoPaths.Root, "tests", "scenarios", name);

    [Theory]
    [InlineData("ct-helper-natftp")]
    [InlineData("ct-helper-natftp6")]
    public void EveryFrameAndTheConntrackTable_AgreeWithTheKernel(string scenario)
    {
        var j = ScenarioJudge.Judge(Scenario(scenario));
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

    [Fact]
    public void OverIPv6_EprtIsRewrittenInFull_AndTheDataConnectionsFollowTheMaster()
    {
        var dir = Scenario("ct-helper-natftp6");
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions { LabPath = Path.Combine(dir, "lab.sh"), InjectAt = "host/any" });
        var events = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<PktFlow.Replay.TraceEvent>().SelectMany(e => e.Trace.Path).ToList();
        string[] Details(string stage) => events.Where(e => e.Stage == stage).Select(e => e.Detail!).ToArray();
        // nf_nat_ftp_fmt_cmd: |2|%pI6|%u| (no :: shortening), 29 bytes longer than the client's text
        Assert.Contains(Details("NfConntrackHelper"), d => d.Contains("nf_nat_ftp rewrites `|2|fd00:10::2|40004|' as `|2|2001:0db8:0002:0000:0000:0000:0000:0001|40004|' (+29 bytes", StringComparison.Ordinal));
        Assert.Contains(Details("NfCtSeqAdjust"), d => d.Contains("ack ", StringComparison.Ordinal));
        // 41001 (masqueraded), 40004 back to the LAN host, 40008 to the published server
        Assert.Equal(3, Details("NfNatFollowMaster").Length);
    }

    private static bool SameLength(string mangle) => mangle.Split(" -> ") is [var a, var b] && a.Split(' ')[^1] == b.Split(' ')[0];

    [Theory]
    [InlineData("ct-helper-natftp", 0x0800)]
    [InlineData("ct-helper-natftp6", 0x86DD)]
    public void ThePacketsSentOutOfEth1_AreTheKernelsByteForByte(string scenario, int etherType)
    {
        var dir = Scenario(scenario);
        var sent = new List<byte[]>();
        var runner = new PktFlow.Replay.ReplayRunner(new PktFlow.Replay.ReplayOptions
        {
            LabPath = Path.Combine(dir, "lab.sh"), InjectAt = "host/any",
            OnTransmit = (ns, dev, frame) => { if (ns == "host" && dev == "eth1" && frame.Length > 14 && (frame[12] << 8 | frame[13]) == etherType) sent.Add(frame[14..]); },
        });
        foreach (var _ in runner.Run(Path.Combine(dir, "wire.pcap"))) { }
        // the capture's copies leaving eth1 (cooked v2: protocol, ifindex at 4, packet type 4 = outgoing at 10)
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "kernel.json")));
        int eth1 = record.RootElement.GetProperty("namespaces").GetProperty("host").GetProperty("devices").GetProperty("eth1").GetProperty("ifindex").GetInt32();
        var kernel = new List<byte[]>();
        using (var reader = CaptureReader.Open(Path.Combine(dir, "wire.pcap")))
            while (reader.Read(out var f, out _) == CaptureReadStatus.Frame)
            {
                var d = f.Data.Span;
                if (f.LinkType == LinkType.LinuxSll2 && d.Length > 20 && (d[0] << 8 | d[1]) == etherType && d[10] == 4 && System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(d[4..]) == eth1)
                    kernel.Add(d[20..].ToArray());
            }
        Assert.Equal(kernel.Count, sent.Count);
        for (int i = 0; i < kernel.Count; i++)
            Assert.True(kernel[i].AsSpan().SequenceEqual(sent[i]), $"packet {i + 1} out of eth1: kernel {Convert.ToHexString(kernel[i])}, model {Convert.ToHexString(sent[i])}");
    }
}
