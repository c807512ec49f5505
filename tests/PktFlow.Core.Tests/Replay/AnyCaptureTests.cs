using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Replay;
using PktFlow.Testing;
using PktFlow.Topology.Lab;

namespace PktFlow.Tests.Replay;

/// <summary>
/// tests/scenarios/docker-any-capture: the Docker host of docker-published-port recorded with
/// tcpdump -i any in the host namespace. Each frame enters at the device its ifindex names, and the
/// copies of one packet on eth0, docker0 and the veths are recognised as copies of the first.
/// </summary>
public class AnyCaptureTests(ITestOutputHelper output)
{
    private static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "docker-any-capture");

    private static Dictionary<long, PacketTrace> Replay(string pcap, List<ProblemEvent>? problems = null, string? injectAt = "host/any")
    {
        var runner = new ReplayRunner(new ReplayOptions { LabPath = Path.Combine(Dir, "lab.sh"), InjectAt = injectAt });
        var traces = new Dictionary<long, PacketTrace>();
        foreach (var e in runner.Run(pcap))
        {
            if (e is TraceEvent t) traces[t.Trace.Frame] = t.Trace;
            else if (e is ProblemEvent p) problems?.Add(p);
        }
        return traces;
    }

    [Fact]
    public void EachFrameEntersAtTheDeviceItsIfindexNames()
    {
        var t = Replay(Path.Combine(Dir, "wire.pcap"));
        Assert.Equal("host/eth0", t[3].Ingress);   // the client's SYN to the published port
        Assert.Equal("host/veth1", t[11].Ingress); // c1's answer, on c1's veth
        Assert.Equal("host/veth2", t[39].Ingress); // c2's own connection, before masquerade
        Assert.Null(t[3].CopyOf);
        Assert.Null(t[39].CopyOf);
    }

    [Fact]
    public void WithoutInjectAtACookedCaptureIsMappedPerFrameToo()
    {
        var t = Replay(Path.Combine(Dir, "wire.pcap"), injectAt: null);
        Assert.Equal("host/veth2", t[39].Ingress);
        Assert.Equal(39, t[41].CopyOf);
    }

    [Fact]
    public void LaterCopiesOfAPacketAreRecognisedWithNatRewrittenFields()
    {
        var t = Replay(Path.Combine(Dir, "wire.pcap"));
        // the SYN after DNAT, sent on docker0 and then on c1's veth
        Assert.Equal((3L, "copy of frame 3 seen on docker0"), (t[9].CopyOf!.Value, t[9].Reason));
        Assert.Equal(3, t[10].CopyOf);
        // c1's answer passed up to docker0, then un-DNATed out of eth0
        Assert.Equal(11, t[12].CopyOf);
        Assert.Equal((11L, "copy of frame 11 seen on eth0"), (t[13].CopyOf!.Value, t[13].Reason));
        Assert.Equal(t[11].Fate, t[13].Fate);
        // c2's SYN seen before masquerade on veth2 is traced from there; its masqueraded copy on eth0 is recognised
        Assert.Equal(39, t[41].CopyOf);
        Assert.Contains(t[39].Path, e => e.Namespace == "client"); // on through eth0's peer to the client
        Assert.Equal(t[39].Fate, t[41].Fate);
        Assert.DoesNotContain(t[39].Notes, n => n.Contains("cannot tell", StringComparison.Ordinal));
        // an ARP request the host floods through docker0 to both ports
        Assert.Equal(4, t[5].CopyOf);
        Assert.Equal(4, t[6].CopyOf);
        Assert.Equal("Observed", Assert.Single(t[13].Path).Stage);
    }

    [Fact]
    public void AFrameOfADeviceTheModelLacksIsAnErrorNamingItNotALostPacket()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "wire.pcap"));
        // the first record's cooked v2 header: ifindex at bytes 4-7 after the 24-byte file and 16-byte record headers
        bytes[24 + 16 + 4] = 0; bytes[24 + 16 + 5] = 0; bytes[24 + 16 + 6] = 0; bytes[24 + 16 + 7] = 99;
        var pcap = Path.Combine(Path.GetTempPath(), $"pktflow-anycap-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(pcap, bytes);
        try
        {
            var problems = new List<ProblemEvent>();
            var t = Replay(pcap, problems);
            var p = Assert.Single(problems).Problem;
            Assert.Equal(CaptureProblemCodes.InterfaceNotInModel, p.Code);
            Assert.Contains("frame 1 was captured on ifindex 99", p.Message, StringComparison.Ordinal);
            Assert.Contains("eth0 2", p.Message, StringComparison.Ordinal);
            Assert.False(t.ContainsKey(1));
            Assert.True(t.ContainsKey(2));
        }
        finally { File.Delete(pcap); }
    }

    /// <summary>
    /// A pcapng with one interface per device maps frames by if_name: docker-published-port's eth0
    /// frames written under an interface "eth0", and one frame under an interface the lab lacks.
    /// </summary>
    [Fact]
    public void PcapngInterfacesAreMappedByName()
    {
        var source = Path.Combine(RepoPaths.Root, "tests", "scenarios", "docker-published-port", "wire.pcap");
        var pcapng = Path.Combine(Path.GetTempPath(), $"pktflow-anycap-{Guid.NewGuid():N}.pcapng");
        try
        {
            using (var output = File.Create(pcapng))
            using (var writer = new PcapNgWriter(output))
            {
                int eth0 = writer.AddInterface(LinkType.Ethernet, "eth0"), other = writer.AddInterface(LinkType.Ethernet, "ens3");
                using var reader = CaptureReader.Open(source);
                while (reader.Read(out var f, out _) is var s && s != CaptureReadStatus.End)
                    if (s == CaptureReadStatus.Frame) writer.Write(f.Number == 2 ? other : eth0, f.TimestampNs, f.Data.Span);
            }
            var problems = new List<ProblemEvent>();
            var runner = new ReplayRunner(new ReplayOptions { LabPath = Path.Combine(RepoPaths.Root, "tests", "scenarios", "docker-published-port", "lab.sh") });
            var t = new Dictionary<long, PacketTrace>();
            foreach (var e in runner.Run(pcapng))
                if (e is TraceEvent te) t[te.Trace.Frame] = te.Trace;
                else if (e is ProblemEvent p) problems.Add(p);
            Assert.Contains("frame 2 was captured on interface 'ens3' (pcapng interface 1)", Assert.Single(problems).Problem.Message, StringComparison.Ordinal);
            Assert.All(t.Values, x => Assert.Equal("host/eth0", x.Ingress));
            Assert.False(t.ContainsKey(2));
        }
        finally { File.Delete(pcapng); }
    }

    /// <summary>
    /// tests/scenarios/nat-any-capture: two LAN hosts masqueraded with the same UDP source port and
    /// the same ICMP id. The second flow's port and id are the ones the kernel picked at random; the
    /// copy after NAT a few frames later shows them, and the model's binding takes them.
    /// </summary>
    [Fact]
    public void ARandomlyRemappedPortOrIdIsReadFromTheCopyAfterNat()
    {
        var dir = Path.Combine(RepoPaths.Root, "tests", "scenarios", "nat-any-capture");
        var runner = new ReplayRunner(new ReplayOptions { LabPath = Path.Combine(dir, "lab.sh"), InjectAt = "host/any" });
        var t = runner.Run(Path.Combine(dir, "wire.pcap")).OfType<TraceEvent>().ToDictionary(e => e.Trace.Frame, e => e.Trace);
        Assert.Equal("host/eth-b", t[16].Ingress);
        Assert.Equal(16, t[18].CopyOf);   // 203.0.113.1.40880 > 203.0.113.53.53 after masquerade
        Assert.Equal(25, t[27].CopyOf);   // the echo request with its id remapped to 51954
        Assert.Null(t[28].CopyOf);          // the reply is a packet of its own, un-NATed back to b
        Assert.Contains(t[28].Path, e => e.Namespace == "b");
        Assert.Equal(28, t[29].CopyOf);
        var j = ScenarioJudge.Judge(dir);
        foreach (var f in j.Frames.Where(f => !f.Agrees)) output.WriteLine($"nat-any-capture frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Agreed >= 38, $"{j.Agreed} of {j.Judged} frames agree");
        Assert.Equal(j.Conntrack.Total, j.Conntrack.Agreed);
    }

    [Fact]
    public void TheJudgeAgreesOnEveryFrameCopiesIncluded()
    {
        var j = ScenarioJudge.Judge(Dir);
        foreach (var f in j.Frames.Where(f => !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Frames.Count(f => f.Judged && f.Kernel.StartsWith("copy of frame", StringComparison.Ordinal)) > 30);
        Assert.Equal(j.Judged, j.Agreed);
    }
}
