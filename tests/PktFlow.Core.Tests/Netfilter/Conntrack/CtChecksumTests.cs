using PktFlow.Netfilter.Conntrack;
using PktFlow.Wire;
using static PktFlow.Tests.Netfilter.Conntrack.CtPackets;

namespace PktFlow.Tests.Netfilter.Conntrack;

/// <summary>
/// The checksum check of conntrack's tcp_error / udp_error / icmp(v6)_error: only at PRE_ROUTING, only
/// with nf_conntrack_checksum=1, and a bad sum makes the packet INVALID without an entry (measured on
/// 6.18 in scenario bad-checksum: no entry listed, `ct state invalid` counted; with 0 the entries exist).
/// </summary>
public class CtChecksumTests
{
    private static byte[] Broken(byte[] packet, bool v6)
    {
        int l4 = v6 ? 40 : 20;
        byte proto = v6 ? packet[6] : packet[9];
        int at = proto switch { IpProtocol.Tcp => 16, IpProtocol.Udp => 6, _ => 2 };
        packet[l4 + at] ^= 0x5a;
        return packet;
    }

    public static TheoryData<string, byte[], bool> Packets => new()
    {
        { "tcp", Tcp(A, C, 40000, 80, "S"), false },
        { "udp", Udp(A, C, 40000, 53), false },
        { "icmp", Echo(A, C, 8, 7), false },
        { "tcp6", Tcp(A6, C6, 40000, 80, "S"), true },
        { "udp6", Udp(A6, C6, 40000, 53), true },
        { "icmpv6", Echo(A6, C6, 128, 7), true },
    };

    [Theory]
    [MemberData(nameof(Packets))]
    public void ABadChecksumAtPreRoutingIsInvalidAndTracksNothing(string name, byte[] packet, bool v6)
    {
        var table = new ConntrackTable();
        var r = table.In(Broken(packet, v6), v6, 1, preRouting: true);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Contains("bad checksum", r.Detail);
        Assert.Contains(name.StartsWith("icmp") ? "icmp" : name[..3], r.Detail); // names the kernel's *_error function
        Assert.Null(r.Entry);
        Assert.Empty(table.Entries);
    }

    [Theory]
    [MemberData(nameof(Packets))]
    public void WithTheSysctlOffOrOnTheWayOutTheSameBytesAreTracked(string name, byte[] packet, bool v6)
    {
        _ = name;
        var off = new ConntrackTable(new ConntrackSettings { Checksum = false });
        var r = off.In(Broken((byte[])packet.Clone(), v6), v6, 1, preRouting: true);
        Assert.Equal(CtState.New, r.State);
        Assert.EndsWith("checksum not verified (nf_conntrack_checksum=0)", r.Detail);
        var output = new ConntrackTable();
        Assert.Equal(CtState.New, output.In(Broken((byte[])packet.Clone(), v6), v6, 1, preRouting: false).State);
    }

    [Fact]
    public void ABadChecksumDoesNotMoveAnExistingConnection()
    {
        var table = new ConntrackTable();
        var syn = table.In(Tcp(A, C, 40000, 80, "S"), false, 1, preRouting: true);
        Assert.True(table.Confirm(syn.Entry!));
        var r = table.In(Broken(Tcp(C, A, 80, 40000, "SA"), false), false, 2, preRouting: true);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(TcpCtState.SynSent, syn.Entry!.TcpState);
        Assert.Equal(CtState.Established, table.In(Tcp(C, A, 80, 40000, "SA"), false, 3, preRouting: true).State);
    }

    [Fact]
    public void UdpWithoutAChecksumIsTracked()
    {
        var p = Udp(A, C, 40000, 53);
        p[26] = p[27] = 0;
        Assert.Equal(CtState.New, new ConntrackTable().In(p, false, 1, preRouting: true).State);
    }

    [Fact]
    public void TheSysctlIsReadFromTheLab()
    {
        var topo = PktFlow.Topology.Lab.LabLoader.Load(
            "ip netns add r2\nip netns exec r2 sysctl -w net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_checksum=0\n", "t.lab");
        Assert.True(ConntrackSysctls.From(topo.Namespace("host")!.Sysctls).Checksum); // the default, 1
        Assert.False(ConntrackSysctls.From(topo.Namespace("r2")!.Sysctls).Checksum);
    }

    [Fact]
    public void TheSysctlIsReadFromASnapshot()
    {
        // sysctl -a of a live namespace lists it (scripts/pktflow-collect.sh); here "= 1", and a 0 is read as off
        var snap = PktFlow.Tests.Topology.Snapshot.SnapshotLoaderTests.SnapshotDir;
        var r = PktFlow.Topology.Snapshot.SnapshotLoader.Load(snap).Namespace("pfsnap-r")!.Sysctls;
        Assert.Equal("1", r.Get("net.netfilter.nf_conntrack_checksum"));
        Assert.True(ConntrackSysctls.From(r).Checksum);
    }
}
