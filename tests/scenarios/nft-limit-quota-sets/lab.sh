# One host whose input chain is all stateful expressions: a packet limit (2/second, burst 3) and a
# byte limit (1 kbytes/second, burst 200 bytes) run against time, a named quota (256 bytes, at its
# boundary) and a quota over, a dynamic set that remembers source.port for 1 s
# (a repeat within the second is dropped), a port knock whose membership update refreshes the
# timeout and a delete ends it, numgen inc (every third packet), and iptables-nft's -m limit and
# -m statistic --mode nth in table ip filter. UDP to closed ports: accepted datagrams are answered
# with ICMP port unreachable.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet t {
    counter pings { }
    quota q5002 { 256 bytes }
    set seen { type ipv4_addr . inet_service; flags dynamic,timeout; timeout 1s; }
    set knocked { type ipv4_addr; flags dynamic,timeout; }
    chain input {
        type filter hook input priority filter; policy accept;
        icmp type echo-request counter name "pings" accept
        udp dport 5001 limit rate 2/second burst 3 packets accept
        udp dport 5001 drop
        udp dport 5005 limit rate 1 kbytes/second burst 200 bytes accept
        udp dport 5005 drop
        udp dport 5002 quota name "q5002" accept
        udp dport 5002 drop
        udp dport 5003 quota over 200 bytes drop
        udp dport 5004 ip saddr . udp dport @seen drop
        udp dport 5004 add @seen { ip saddr . udp dport } accept
        udp dport 5006 update @knocked { ip saddr timeout 1s } accept
        udp dport 5008 delete @knocked { ip saddr } accept
        udp dport 5007 ip saddr @knocked accept
        udp dport 5007 drop
        udp dport 5009 numgen inc mod 3 0 drop
    }
}
NFT

iptables-restore <<'IPT'
*filter
:INPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --dport 5010 -m statistic --mode nth --every 3 --packet 1 -j DROP
-A INPUT -p udp -m udp --dport 5011 -m limit --limit 2/sec --limit-burst 2 -j ACCEPT
-A INPUT -p udp -m udp --dport 5011 -j DROP
COMMIT
IPT
