using PktFlow.Topology;
using PktFlow.Topology.Lab;
using PktFlow.Wire;

namespace PktFlow.Tests.Topology;

public class LabLoaderTests
{
    private const string Router = """
        # a router with two NICs
        ip link set eth0 address 02:00:00:00:01:01
        ip link set eth0 up
        ip link set eth1 address 02:00:00:00:02:01
        ip link set eth1 up
        ip addr add 10.1.0.1/24 brd + dev eth0
        ip addr add 10.2.0.1/24 dev eth1
        ip route add 172.16.0.0/16 via 10.2.0.2
        ip route add blackhole 198.51.100.0/24
        ip -6 addr add 2001:db8:1::1/64 dev eth0
        sysctl -w net.ipv4.ip_forward=1
        """;

    private static string[] Lines(NetNamespace ns, IpFamily f) =>
        ns.Routes.Where(r => r.Family == f).Select(r => r.ToString()).OrderBy(s => s, StringComparer.Ordinal).ToArray();

    [Fact]
    public void KernelAddsLocalBroadcastAndConnectedRoutes()
    {
        var ns = LabLoader.Load(Router, "router.lab").Host;
        var v4 = Lines(ns, IpFamily.V4);
        Assert.Contains("local 10.1.0.1 dev eth0 table local proto kernel scope host src 10.1.0.1", v4);
        Assert.Contains("broadcast 10.1.0.255 dev eth0 table local proto kernel scope link src 10.1.0.1", v4);
        // no "brd +" on eth1: the kernel still adds the subnet broadcast route (checked on 6.18)
        Assert.Contains("broadcast 10.2.0.255 dev eth1 table local proto kernel scope link src 10.2.0.1", v4);
        Assert.Contains("10.1.0.0/24 dev eth0 proto kernel scope link src 10.1.0.1", v4);
        Assert.Contains("172.16.0.0/16 via 10.2.0.2 dev eth1", v4);
        Assert.Contains("blackhole 198.51.100.0/24", v4);
        Assert.Contains("local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1", v4);
    }

    [Fact]
    public void Ipv6GetsLinkLocalFromMacAndMulticastRoute()
    {
        var ns = LabLoader.Load(Router, "router.lab").Host;
        var v6 = Lines(ns, IpFamily.V6);
        Assert.Contains("local fe80::ff:fe00:101 dev eth0 table local proto kernel", v6);
        Assert.Contains("fe80::/64 dev eth0 proto kernel metric 256", v6);
        Assert.Contains("2001:db8:1::/64 dev eth0 proto kernel metric 256", v6);
        Assert.Contains("multicast ff00::/8 dev eth1 table local proto kernel metric 256", v6);
    }

    [Fact]
    public void ForwardingSysctlPropagatesToDevices()
    {
        var ns = LabLoader.Load(Router, "router.lab").Host;
        Assert.True(ns.Sysctls.Ipv4Forwarding("eth0"));
        Assert.True(ns.Sysctls.Ipv4Forwarding("eth1"));
        Assert.False(ns.Sysctls.Ipv6Forwarding);
        var off = LabLoader.Load(Router + "\nsysctl -w net.ipv4.conf.eth1.forwarding=0\n", "x").Host;
        Assert.True(off.Sysctls.Ipv4Forwarding("eth0"));
        Assert.False(off.Sysctls.Ipv4Forwarding("eth1"));
    }

    [Fact]
    public void RouteOnDownDeviceIsRefusedLikeTheKernel()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip link set eth0 address 02:00:00:00:00:01\nip route add 10.0.0.0/8 dev eth0\n", "down.lab"));
        Assert.Equal(2, e.Line);
        Assert.Contains("not up", e.Message);
        Assert.StartsWith("down.lab:2:", e.Message);
    }

    [Fact]
    public void GatewayMustBeOnLink()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip link set eth0 up\nip addr add 10.1.0.1/24 dev eth0\nip route add default via 10.9.9.9\n", "gw.lab"));
        Assert.Equal(3, e.Line);
        Assert.Contains("invalid gateway", e.Message);
    }

    [Theory]
    [InlineData("ip route add 10.0.0.0/33 dev eth0", "10.0.0.0/33")]
    [InlineData("ip addr add 10.0.0.1/24 dve eth0", "dve")]
    [InlineData("ip link set eth0 mtu abc", "abc")]
    [InlineData("ip frob", "frob")]
    [InlineData("ip -n nope link set eth0 up", "nope")]
    [InlineData("ip route add 10.0.0.0/8 via $GW", "${GW}")]
    [InlineData("sysctl -w net.netfilter.nf_conntrack_sctp_timeout_established=soon", "net.netfilter.nf_conntrack_sctp_timeout_established=soon")]
    public void ErrorsNameLineAndToken(string line, string token)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip link set eth0 up\n" + line + "\n", "bad.lab"));
        Assert.Equal(2, e.Line);
        Assert.Equal(token, e.Token);
        Assert.Contains("bad.lab:2", e.Message);
    }

    [Fact]
    public void UnmodelledCommandsAreRecordedAndUnknownOnesWarned()
    {
        var topo = LabLoader.Load("ip link set eth0 up\nebtables -A INPUT -j DROP\nfrobnicate --now\ntc qdisc add dev eth0 root netem delay 10ms\n", "w.lab");
        Assert.Equal(2, topo.Host.Unmodelled.Count);
        Assert.Contains(topo.Warnings, w => w.StartsWith("w.lab:3:") && w.Contains("frobnicate"));
        Assert.Contains(topo.Warnings, w => w.StartsWith("w.lab:2:") && w.Contains("ebtables"));
    }

    [Theory]
    [InlineData("sleep 300 >/dev/null 2>&1 &")]
    [InlineData("sleep 300 &>/dev/null &")]
    [InlineData("sleep 300 >&2 && ip link set eth0 up")]
    public void RedirectionsWithAmpersandAreNotCommands(string line)
    {
        // `2>&1` once split into a bogus command "1" (warned as unknown)
        var topo = LabLoader.Load("ip link set eth0 up\n" + line + "\n", "r.lab");
        Assert.DoesNotContain(topo.Warnings, w => w.Contains("'1'") || w.Contains("'2'") || w.Contains("/dev/null"));
    }

    [Fact]
    public void ShellSubsetVariablesContinuationsAndSeparators()
    {
        var topo = LabLoader.Load("""
            NIC=eth0; ADDR="10.5.0.1/24"
            ip link set $NIC \
               address 02:00:00:00:00:05 up
            ip addr add ${ADDR} dev "$NIC" && sysctl -w net.ipv4.ip_forward=1 # trailing comment
            """, "v.lab");
        var ns = topo.Host;
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:05"), ns.Device("eth0")!.Mac);
        Assert.Contains(ns.Addresses, a => a.ToString() == "10.5.0.1/24 dev eth0");
        Assert.True(ns.Sysctls.Ipv4Forwarding("eth0"));
    }

    [Fact]
    public void VethPairAcrossNamespaces()
    {
        var topo = LabLoader.Load("ip netns add c1\nip link add veth0 type veth peer name eth0 netns c1\nip -n c1 link set eth0 up\nip netns exec c1 ip addr add 10.9.0.2/24 dev eth0\n", "ns.lab");
        Assert.Equal(2, topo.Namespaces.Count);
        var c1 = topo.Namespace("c1")!;
        Assert.Equal("veth0", c1.Device("eth0")!.Peer);
        Assert.True(c1.IsLocalAddress(IpAddr.Parse("10.9.0.2")));
        Assert.False(c1.Device("lo")!.IsUp); // a new namespace's lo starts down
    }

    [Fact]
    public void ArraysExpandToOneWordPerElement()
    {
        // traffic scripts gather sendframe's frames this way (nft-payload-set): F=(), F+=("..."), "${F[@]}"
        var text = """
            E="Ether()"
            F=()
            F+=("$E/IP(src='10.1.0.2')/TCP(sport=1)")
            # a comment between the assignments
            F+=("$E/UDP()" 'two words')
            G=(
              a
              "b c"
            )
            sendframe eth0 "${F[@]}" x
            echo ${G[@]} end
            """;
        var cmds = ShellWords.Split(text).ToList();
        Assert.Equal(["sendframe", "eth0", "Ether()/IP(src='10.1.0.2')/TCP(sport=1)", "Ether()/UDP()", "two words", "x"], cmds[0].Words);
        Assert.Equal(10, cmds[0].Line);
        Assert.Equal(["echo", "a", "b c", "end"], cmds[1].Words);
        Assert.Equal(2, cmds.Count);
    }

    [Fact]
    public void ArraysAsBashExpandsThemInAssignmentsSubstitutionsAndWhenEmpty()
    {
        // bash: an assignment joins the elements with spaces; `)` closing a `$(...)` inside an array does
        // not end the array; an empty array's "${E[@]}" is no word at all (but "" still is one)
        var text = """
            A=(x "y z")
            X="${A[@]}"
            echo "$X"
            B=($(seq 2) last)
            echo "${B[@]}"
            E=()
            echo a "${E[@]}" b ""
            E+=(one)
            echo "${E[@]}"
            """;
        var cmds = ShellWords.Split(text).ToList();
        Assert.Equal(["echo", "x y z"], cmds[0].Words);
        Assert.Equal(["echo", "$(seq 2)", "last"], cmds[1].Words);
        Assert.Equal(["echo", "a", "b", ""], cmds[2].Words);
        Assert.Equal(["echo", "one"], cmds[3].Words);
        Assert.Equal(4, cmds.Count);
    }

    [Fact]
    public void HereDocumentsAreTakenWholeAndLinesStillCount()
    {
        var topo = LabLoader.Load("""
            ip link set eth0 up
            nft -f - <<'EOF'
            table inet filter {
              chain input { type filter hook input priority 0; policy drop; }
            }
            EOF
            ip addr add 10.1.0.1/24 dev eth0
            frob
            """, "h.lab");
        Assert.Empty(topo.Host.Unmodelled);
        var chain = Assert.Single(topo.Host.Nft!.BaseChains(PktFlow.Netfilter.Nftables.NftFamily.Ip, PktFlow.Netfilter.Nftables.NftHookPoint.Input));
        Assert.True(chain.PolicyDrop);
        Assert.Contains(topo.Host.Addresses, a => a.ToString() == "10.1.0.1/24 dev eth0");
        Assert.Contains(topo.Warnings, w => w.StartsWith("h.lab:8:"));
    }

    [Fact]
    public void ForLoopsExpandNestedAndInOrder()
    {
        var topo = LabLoader.Load("""
            for n in 1 2; do
              ip link set eth$n up
              for a in 10 20; do ip addr add 10.$n.0.$a/24 dev eth$n; done
            done
            """, "loop.lab");
        var addrs = topo.Host.Addresses.Where(a => a.Family == PktFlow.Wire.IpFamily.V4 && a.Device != "lo").Select(a => a.ToString()).ToArray();
        Assert.Equal(new[] { "10.1.0.10/24 dev eth1", "10.1.0.20/24 dev eth1", "10.2.0.10/24 dev eth2", "10.2.0.20/24 dev eth2" }, addrs);
    }

    [Fact]
    public void MovingADeviceToANamespaceTakesItDownAndUpdatesThePeer()
    {
        var topo = LabLoader.Load("""
            ip netns add c1
            ip link add veth-c1 type veth peer name eth0c
            ip link set eth0c netns c1
            ip -n c1 link set eth0c up
            """, "mv.lab");
        Assert.Null(topo.Host.Device("eth0c"));
        Assert.True(topo.Namespace("c1")!.Device("eth0c")!.IsUp);
        Assert.Equal("c1", topo.Host.Device("veth-c1")!.PeerNamespace);
    }

    [Theory]
    [InlineData("timeout 120 socat -u TCP4-LISTEN:8080,reuseaddr,fork OPEN:/dev/null &", "tcp 0.0.0.0:8080")]
    [InlineData("socat UDP6-RECV:5353 -", "udp *:5353")]
    [InlineData("socat -u UDP4-RECV:5000,bind=10.1.0.1 STDOUT", "udp 10.1.0.1:5000")]
    [InlineData("nc -lu 9000 &", "udp 0.0.0.0:9000")]
    [InlineData("nc -l -p 2222", "tcp 0.0.0.0:2222")]
    public void ListenersBecomeTheSocketTable(string line, string expected)
    {
        var ns = LabLoader.Load("ip link set eth0 up\n" + line + "\n", "s.lab").Host;
        Assert.NotNull(ns.Sockets);
        Assert.StartsWith(expected + " (s.lab:2:", ns.Sockets![0].ToString());
    }

    [Fact]
    public void AnNftErrorNamesTheLabLineOfTheHereDocument()
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load("ip link set eth0 up\nnft -f - <<EOF\ntable inet t {\n  chain c { type filter hook input priority 0; tcpp dport 22 accept; }\n}\nEOF\n", "n.lab"));
        Assert.Contains("n.lab:4:", e.Message);
        Assert.Contains("tcpp", e.Message);
    }

    [Theory]
    [InlineData("i=2\ni=$((i + 1))\n", "shell arithmetic")]
    [InlineData("ip link set $(ls /sys/class/net | head -1) up\n", "command substitution")]
    [InlineData("for i in $(seq 1 3); do ip link add d$i type dummy; done\n", "command substitution")]
    public void ArithmeticAndCommandSubstitutionAreRefusedNotGuessed(string lab, string message)
    {
        var e = Assert.Throws<LabException>(() => LabLoader.Load(lab, "s.lab"));
        Assert.Contains(message, e.Reason);
    }
}
