using PktFlow.Capture;
using PktFlow.Datapath;
using PktFlow.Testing;
using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Socket;

/// <summary>
/// SO_MARK and SO_PRIORITY of lab sockets (socat setsockopt-listen / setsockopt-int / priority):
/// what a socket sends carries its mark into the output route lookup (ip rule fwmark) and the output
/// hook, and its priority; a SYN-ACK has the listener's, a connection its own. The recorded scenario
/// socket-mark holds the kernel's account of the same (its counters: TproxyTests).
/// </summary>
public class SocketMarkTests
{
    static readonly MacAddress Host = MacAddress.Parse("02:00:00:00:01:01"), Client = MacAddress.Parse("02:00:00:00:01:02");
    static readonly IpAddr C = IpAddr.Parse("10.1.0.2"), H = IpAddr.Parse("10.1.0.1");

    static DatapathEngine Scenario() =>
        new(LabLoader.LoadFile(Path.Combine(RepoPaths.Root, "tests", "scenarios", "socket-mark", "lab.sh")));

    /// <summary>A segment the host sends from <paramref name="sport"/>, as the capture saw it leave eth0.</summary>
    static PacketTrace Sent(DatapathEngine engine, ushort sport, byte flags)
    {
        var frame = FrameBuilder.Ethernet(Client, Host, EtherTypes.Ipv4, FrameBuilder.Ipv4(H, C, IpProtocol.Tcp, FrameBuilder.Tcp(H, C, sport, 40001, flags)));
        return engine.Process(new CaptureFrame(1, 1_000_000, LinkType.Ethernet, 0, null, frame.Length, frame.Length, 24, frame), "t.pcap", engine.ResolveInjectionPoint("eth0"));
    }

    static string Show(PacketTrace t) => string.Join("\n", t.Path) + $"\n=> {t.Fate} {t.Reason}\n" + string.Join("\n", t.Notes);

    /// <summary>The host's device the packet left by (it goes on through gw or straight to the client).</summary>
    static string? LeftBy(PacketTrace t) =>
        t.Path.FirstOrDefault(e => e.Namespace == "host" && e.Stage == "VethXmit")?.Device;

    [Fact]
    public void TheLabGivesListenersTheirMarkAndPriority()
    {
        var topo = LabLoader.Load("""
            socat TCP-LISTEN:8080,fork,setsockopt-listen=1:36:x07000000,priority=5 SYSTEM:true &
            socat TCP-LISTEN:8081,fork,setsockopt-int=1:36:7,sockopt-int=1:12:6 SYSTEM:true &
            socat TCP-LISTEN:8082,fork,sockopt-listen=1:36:i9,so-priority=2,setsockopt-listen=0:19:1 SYSTEM:true &
            socat TCP-LISTEN:8083,fork,setsockopt-int=6:1:1 SYSTEM:true &
            """, "t.lab");
        var s = topo.Namespaces[0].Sockets!.ToDictionary(x => x.Port);
        Assert.Equal((7u, 5u, (uint?)null, (uint?)null), (s[8080].Mark, s[8080].Priority, s[8080].AcceptedMark, s[8080].AcceptedPriority));
        Assert.Equal((0u, 0u, (uint?)7, (uint?)6), (s[8081].Mark, s[8081].Priority, s[8081].AcceptedMark, s[8081].AcceptedPriority));
        Assert.Equal((9u, 2u, true), (s[8082].Mark, s[8082].Priority, s[8082].Transparent));
        Assert.Contains(topo.Warnings, w => w.StartsWith("t.lab:4:", StringComparison.Ordinal) && w.Contains("setsockopt-int=6:1:1"));
        Assert.DoesNotContain(topo.Warnings, w => w.StartsWith("t.lab:1:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("setsockopt-listen=1:36:x0700", "not a 4-byte integer")]
    [InlineData("setsockopt-int=1:36:x07000000", "not a 4-byte integer")]
    [InlineData("setsockopt-listen=1:36", "needs LEVEL:OPTNAME:VALUE")]
    [InlineData("priority=high", "needs a number")]
    public void BadSocketOptions_AreRefusedOnLoad(string option, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load($"socat TCP-LISTEN:80,{option} SYSTEM:true &\n", "t.lab"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AMarkedListenersSynAck_IsRoutedByTheFwmarkRule()
    {
        var t = Sent(Scenario(), 8080, 0x12);
        Assert.True(LeftBy(t) == "eth1", Show(t));
        Assert.Contains(t.Notes, n => n.StartsWith("sent from request socket 10.1.0.1:8080 <-> 10.1.0.2:40001 of the listener tcp 0.0.0.0:8080 mark 0x7 priority 5", StringComparison.Ordinal)
            && n.EndsWith("skb mark 0x7 (SO_MARK), priority 0:5 (SO_PRIORITY)", StringComparison.Ordinal));
    }

    [Fact]
    public void AConnection_HasTheListenersMarkButNotItsPriority()
    {
        var t = Sent(Scenario(), 8080, 0x18);
        Assert.True(LeftBy(t) == "eth1", Show(t));
        Assert.Contains(t.Notes, n => n.Contains("skb mark 0x7 (SO_MARK), priority none (SO_PRIORITY)"));
    }

    [Fact]
    public void OptionsSetAfterAccept_MissTheSynAck()
    {
        var engine = Scenario();
        var synAck = Sent(engine, 8081, 0x12);
        Assert.True(LeftBy(synAck) == "eth0", Show(synAck));
        Assert.DoesNotContain(synAck.Notes, n => n.Contains("SO_MARK"));
        var data = Sent(engine, 8081, 0x18);
        Assert.True(LeftBy(data) == "eth1", Show(data));
        Assert.Contains(data.Notes, n => n.Contains("skb mark 0x7 (SO_MARK), priority 0:6 (SO_PRIORITY)"));
    }

    [Fact]
    public void TheKernelsResetHasNoSocketAndNoMark()
    {
        // the reset for a closed port: built by the stack's control socket (tcp_v4_send_reset without a socket)
        var t = Sent(Scenario(), 8083, 0x14);
        Assert.True(LeftBy(t) == "eth0", Show(t));
        Assert.DoesNotContain(t.Notes, n => n.Contains("SO_MARK"));
    }

    [Theory]
    [InlineData("net.ipv4.fwmark_reflect=1")]
    [InlineData("net.ipv6.fwmark_reflect=1")]
    [InlineData("net.ipv4.tcp_fwmark_accept=1")]
    public void SysctlsThatReflectMarks_AreModelled(string write)
    {
        // ReplyMarkTests pins what they do; the lab takes them without a warning
        var topo = LabLoader.Load($"sysctl -w {write}\n", "t.lab");
        Assert.Empty(topo.Warnings);
        Assert.Empty(topo.Namespaces[0].Unmodelled);
        Assert.True(topo.Namespaces[0].Sysctls.IsOn(write[..write.IndexOf('=')]));
    }
}
