using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology;

/// <summary>
/// A lab's traffic.sh read for its client sockets only: socat TCP:/UDP: with a fixed source port and
/// ping -e ID declare sockets of the namespace they run in, in script order; nothing else is applied.
/// </summary>
public class LabTrafficSocketsTests
{
    private const string Lab = """
        ip netns add a
        ip netns add b
        ip link add eth-a type veth peer name eth0 netns a
        ip -n a addr add 10.1.0.10/24 dev eth0
        ip -n a -6 addr add 2001:db8::10/64 dev eth0
        """;

    private static string[] Declared(string traffic, string ns = "a") =>
        LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh").Namespace(ns)!.ClientSockets.Select(s => $"{s.Order} {s}").ToArray();

    [Fact]
    public void ClientCommandsDeclareSocketsInScriptOrder()
    {
        var traffic = """
            ip netns exec a socat -u -T 2 TCP:192.168.1.2:9000,connect-timeout=2,sourceport=42001 -
            sleep 0.3
            ip netns exec a socat - TCP6:[2001:db8::2]:80,connect-timeout=2,sourceport=41002 </dev/null || true
            ip netns exec a socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from a"
            ip netns exec a sendframe eth0 "Ether()/IP(dst='10.1.0.1')/ICMP(id=7)"
            ip netns exec a ping -c 1 -W 1 -e 1234 203.0.113.53
            ip netns exec a timeout 5 socat -t 1 - UDP:10.1.0.1:7,bind=10.1.0.10:6000
            ip netns exec a ping -c1 -I 10.1.0.10 -e4321 10.1.0.1
            for port in 41005 41006; do
                ip netns exec a socat -u -T 2 TCP:192.168.1.1:30090,connect-timeout=2,sourceport=$port -
            done
            """;
        Assert.Equal(
        [
            "1 tcp *:42001 -> 192.168.1.2:9000 (traffic.sh:1: socat)",
            "2 tcp *:41002 -> [2001:db8::2]:80 (traffic.sh:3: socat)",
            "3 udp *:5000 -> 203.0.113.53:53 (traffic.sh:4: socat)",
            "4 icmp echo id 1234 * -> 203.0.113.53 (traffic.sh:6: ping)",
            "5 udp 10.1.0.10:6000 -> 10.1.0.1:7 (traffic.sh:7: socat)",
            "6 icmp echo id 4321 10.1.0.10 -> 10.1.0.1 (traffic.sh:8: ping)",
            "7 tcp *:41005 -> 192.168.1.1:30090 (traffic.sh:10: socat)",
            "8 tcp *:41006 -> 192.168.1.1:30090 (traffic.sh:10: socat)",
        ], Declared(traffic));
        Assert.Empty(Declared(traffic, "b"));
    }

    [Fact]
    public void SocatsConnectTimeoutIsKeptWithItsSocket()
    {
        var traffic = """
            ip netns exec a socat - TCP:10.2.0.2:22,connect-timeout=1.5,sourceport=40002 </dev/null || true
            ip netns exec a socat -u - TCP:10.2.0.2:23,sourceport=40003 </dev/null || true
            timeout 2 ip netns exec a socat -T 1.5 - TCP:10.1.0.1:23,sourceport=42300 </dev/null || true
            timeout -k 1 1m ip netns exec a timeout 45 socat - TCP:10.1.0.1:22,connect-timeout=50,sourceport=42200
            ip netns exec a timeout 5 socat - TCP:10.1.0.1:22,connect-timeout=2,sourceport=42201
            ip netns exec a socat - TCP:10.1.0.1:22,sourceport=42202
            """;
        var sockets = LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh").Namespace("a")!.ClientSockets;
        // the shorter of connect-timeout and the timeout the command runs under (a limit ends with its command)
        Assert.Equal([1.5, null, 2, 45, 2, null], sockets.Select(s => s.ConnectTimeout?.TotalSeconds));
        Assert.Throws<LabException>(() =>
            LabLoader.Load(Lab, "lab.sh", "ip netns exec a socat - TCP:10.2.0.2:22,connect-timeout=soon,sourceport=40002", "traffic.sh"));
    }

    [Fact]
    public void APythonClientsLiteralConnectsAreDeclaredWithTheirTimeouts()
    {
        // iptables-ct-zone-helper's form: a program written from a here-document, then run under timeout
        var traffic = """
            D=$(mktemp -d)
            cat > "$D/ftp.py" <<'PY'
            import socket, sys
            c = socket.create_connection(("10.2.0.2", 21), timeout=3, source_address=("0.0.0.0", 40021))
            try:
                socket.create_connection(("10.2.0.2", 40002), timeout=1.5, source_address=("0.0.0.0", 41002))
            except OSError:
                pass
            d = socket.create_connection((sys.argv[1], 40001), timeout=3, source_address=("0.0.0.0", 41001))
            e = socket.create_connection(("2001:db8::2", 80), 60, ("2001:db8::10", 41003))
            PY
            timeout 20 ip netns exec a python3 "$D/ftp.py" 10.2.0.2
            ip netns exec a python3 -c 'import socket; socket.create_connection(address=("10.1.0.1", 22), source_address=("10.1.0.10", 41004))'
            ip netns exec a python3 - <<'PY'
            import socket
            socket.create_connection(("10.1.0.1", 23), source_address=("", 41005))
            PY
            """;
        var sockets = LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh").Namespace("a")!.ClientSockets;
        Assert.Equal(
        [
            "tcp *:40021 -> 10.2.0.2:21 (traffic.sh:12: python3) 3",
            "tcp *:41002 -> 10.2.0.2:40002 (traffic.sh:12: python3) 1.5",
            // a timeout longer than the command's own limit: killed by timeout first
            "tcp [2001:db8::10]:41003 -> [2001:db8::2]:80 (traffic.sh:12: python3) 20",
            "tcp 10.1.0.10:41004 -> 10.1.0.1:22 (traffic.sh:13: python3) ",
        ], sockets.Select(s => $"{s} {s.ConnectTimeout?.TotalSeconds}"));
    }

    [Fact]
    public void PipelinesAndSubshellGroupsAreReadSideBySide()
    {
        // the form iptables-connbytes uses: loops in a subshell feeding a client through a pipe
        var traffic = """
            (for i in 1 2 3; do echo "s$i"; sleep 0.3; done; for i in 1 2; do printf '%0999d\n' 0; done) | timeout 5 ip netns exec a socat -t 0.5 - UDP:10.1.0.1:7101,sourceport=41101 >/dev/null || true
            echo $(date) | ip netns exec a socat - UDP:10.1.0.1:7102,sourceport=41102
            """;
        Assert.Equal(["1 udp *:41101 -> 10.1.0.1:7101 (traffic.sh:1: socat)", "2 udp *:41102 -> 10.1.0.1:7102 (traffic.sh:2: socat)"], Declared(traffic));
    }

    [Theory]
    [InlineData("ip netns exec a ping -c 1 -W 1 10.1.0.1")] // identifier left to ping: random
    [InlineData("ip netns exec a socat -u -T 2 TCP:10.1.0.1:80,connect-timeout=2 -")] // ephemeral source port
    [InlineData("ip netns exec a socat -u TCP-LISTEN:80,fork SYSTEM:'echo a' &")] // a listener: no client socket (see below)
    [InlineData("ip -n a addr add 10.9.9.9/24 dev eth0")] // configuration in traffic is not applied
    public void CommandsThatNameNoFlowDeclareNothing(string traffic)
    {
        Assert.Empty(Declared(traffic));
        Assert.DoesNotContain(LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh").Namespace("a")!.Addresses, x => x.Address == IpAddr.Parse("10.9.9.9"));
    }

    [Fact]
    public void ServersTheScriptStartsListenInTheirNamespace()
    {
        // ipt-nft-tie-order, ct-timeout-object, nat-core-kept start their servers in traffic.sh
        var traffic = """
            ip netns exec a socat TCP-LISTEN:21,fork,reuseaddr SYSTEM:'echo ftp' &
            socat UDP-RECVFROM:7000,fork SYSTEM:cat &
            ip netns exec a nc -l -u -k 5353 &
            ip netns exec a nc 10.1.0.1 80
            sleep 0.5
            ip netns exec a socat -u -T 2 TCP:10.1.0.1:2121,connect-timeout=2,sourceport=40001 -
            """;
        var topo = LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh");
        var a = topo.Namespace("a")!.Sockets!;
        Assert.Equal(["tcp 21 fork traffic.sh:1: socat", "udp 5353 fork traffic.sh:3: nc"], a.Select(s => $"{s.Protocol.ToString().ToLowerInvariant()} {s.Port} {(s.Fork ? "fork" : "once")} {s.Source}"));
        var host = Assert.Single(topo.Host.Sockets!);
        Assert.Equal((SocketProtocol.Udp, 7000, UdpFirstDatagram.Closes), (host.Protocol, host.Port, host.FirstDatagram));
        Assert.Equal(["1 tcp *:40001 -> 10.1.0.1:2121 (traffic.sh:6: socat)"], Declared(traffic));
        Assert.DoesNotContain(topo.Warnings, w => w.Contains("traffic.sh", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ip netns exec a socat - TCP:10.1.0.1:80,sourceport=$PORT", "${PORT}")]
    [InlineData("for port in 2000 2001; do ip netns exec a socat - TCP:10.1.0.1:$port,sourceport=4100${port/200/}; done", "${port/200/}")]
    public void ClientsWithExpansionsTheReaderCannotEvaluateAreWarnedAndNotDeclared(string traffic, string expansion)
    {
        var topo = LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh");
        Assert.Empty(topo.Namespace("a")!.ClientSockets);
        Assert.Contains(topo.Warnings, w => w.StartsWith("traffic.sh:1: a client command with an expansion", StringComparison.Ordinal) && w.Contains(expansion, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ip netns exec nope socat - TCP:10.1.0.1:80,sourceport=4000", "traffic.sh:1: Cannot open network namespace \"nope\" (the lab does not create it) (at 'nope')")]
    [InlineData("ip netns exec a socat - TCP:10.1.0.1:80,sourceport=x", "traffic.sh:1: bad sourceport (at 'sourceport=x')")]
    public void BadClientCommandsNameTheTrafficLine(string traffic, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(Lab, "lab.sh", traffic, "traffic.sh"));
        Assert.Equal(message, e.Message.Split('\n')[0]);
    }
}
