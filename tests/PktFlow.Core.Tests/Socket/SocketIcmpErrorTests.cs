using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Judge;
using PktFlow.Testing;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// The socket match on ICMP errors (nf_sk_lookup_slow_v4 with extract_icmp4_fields): the error is
/// looked up by the TCP/UDP header it quotes, seen from this side, so an error about a connection a
/// transparent listener took finds that socket (`socket transparent 1` marks it and the fwmark rule
/// delivers it locally). The recorded scenario tproxy-icmp-error holds the kernel's account.
/// </summary>
public class SocketIcmpErrorTests(ITestOutputHelper output)
{
    static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr C = IpAddr.Parse("10.1.0.2"), Remote = IpAddr.Parse("198.51.100.10");
    static string Dir => Path.Combine(RepoPaths.Root, "tests", "scenarios", "tproxy-icmp-error");

    static DatapathEngine Engine() => new(LabLoader.LoadFile(Path.Combine(Dir, "lab.sh")));

    static PacketTrace In(DatapathEngine engine, byte protocol, byte[] l4, long number)
    {
        var frame = FrameBuilder.Ethernet(Host, Client, EtherTypes.Ipv4, FrameBuilder.Ipv4(C, Remote, protocol, l4));
        return engine.Process(new CaptureFrame(number, number * 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    /// <summary>An ICMP error of <paramref name="type"/> from the client quoting the proxy's segment 198.51.100.10:80 > 10.1.0.2:<paramref name="port"/>.</summary>
    static byte[] Error(byte type, ushort port, byte quotedProtocol = IpProtocol.Tcp)
    {
        var quotedL4 = quotedProtocol == IpProtocol.Tcp ? FrameBuilder.Tcp(Remote, C, 80, port, 0x10) : FrameBuilder.Udp(Remote, C, 80, port);
        var quoted = FrameBuilder.Ipv4(Remote, C, quotedProtocol, quotedL4);
        var icmp = new byte[8 + quoted.Length];
        icmp[0] = type;
        icmp[1] = (byte)(type == 5 ? 1 : 3);
        quoted.CopyTo(icmp, 8);
        ushort sum = (ushort)~Checksum.Fold(Checksum.Sum(icmp));
        icmp[2] = (byte)(sum >> 8); icmp[3] = (byte)sum;
        return icmp;
    }

    static string Show(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}\n" + string.Join("\n", t.Notes);

    static DatapathEngine Connected()
    {
        var engine = Engine();
        Assert.Equal(Fate.Delivered, In(engine, IpProtocol.Tcp, FrameBuilder.Tcp(C, Remote, 40001, 80, 0x02), 1).Fate);
        return engine;
    }

    [Fact]
    public void AnErrorQuotingATransparentConnection_FindsItsSocket()
    {
        var t = In(Connected(), IpProtocol.Icmp, Error(3, 40001), 2);
        Assert.True(t.Fate == Fate.Delivered, Show(t));
        Assert.Equal("icmp_rcv", t.Path[^1].Function);
    }

    [Theory]
    [InlineData(3, 40099, IpProtocol.Tcp)] // no socket of that flow
    [InlineData(5, 40001, IpProtocol.Tcp)] // a redirect is no error for icmp_is_err
    [InlineData(3, 40001, IpProtocol.Udp)] // quoting UDP: no UDP socket there
    public void OtherErrors_FindNoSocket_AndHaveNoRoute(byte type, ushort port, byte quoted)
    {
        var t = In(Connected(), IpProtocol.Icmp, Error(type, port, quoted), 2);
        Assert.True(t.Fate == Fate.Dropped && t.Reason.Contains("IP_INNOROUTES"), Show(t));
    }

    [Fact]
    public void TheRecordedScenarioAgreesWholly()
    {
        var j = ScenarioJudge.Judge(Dir);
        foreach (var f in j.Frames.Where(f => f.Judged && !f.Agrees)) output.WriteLine($"frame {f.Frame}: {string.Join("; ", f.Differences)}");
        Assert.True(j.Judged > 0);
        Assert.Equal(j.Judged, j.Agreed);
    }
}
