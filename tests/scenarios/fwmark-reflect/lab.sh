# The socket-mark host (directly to the client on eth0, or through the router gw on eth1; `ip rule
# fwmark 7 lookup 100` routes marked packets through gw) with net.ipv4.fwmark_reflect=1 and
# net.ipv4.tcp_fwmark_accept=1. A prerouting rule marks TCP to 8082, 8083 and 8086, UDP to 9000
# and 100-byte echo requests with 7. With fwmark_reflect the kernel's own answers take the mark of
# the packet they answer (IP4_REPLY_MARK), for their output route and in the output chain: the
# reset for the closed port 8083, the ICMP port unreachable for UDP 9000 and the echo reply to a
# marked ping leave through gw; unmarked ones (8085, 9001, a plain ping) directly. A reset a
# listener sends takes the packet's mark before its own (8086, SO_MARK 9: a marked bare ACK is
# reset through gw). With tcp_fwmark_accept a listener without SO_MARK gives its request and
# connection the SYN's mark (inet_request_mark): 8082's SYN-ACK and connection leave through gw,
# 8084 (unmarked SYN) directly; 8086 keeps its own mark 9 (no rule: directly).
ip netns add client
ip netns add gw
for ns in client gw; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec $ns sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec gw sysctl -w net.ipv4.ip_forward=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns gw
ip -n gw link add eth1 address 02:00:00:00:03:01 type veth peer name eth1 address 02:00:00:00:03:02 netns client
ip link set lo up
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n gw link set lo up
ip -n gw addr add 10.2.0.2/24 dev eth0
ip -n gw addr add 10.3.0.1/24 dev eth1
ip -n gw link set eth0 up
ip -n gw link set eth1 up
ip -n gw neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n gw neigh add 10.3.0.2 lladdr 02:00:00:00:03:02 dev eth1 nud permanent
ip -n gw route add 10.1.0.0/24 via 10.3.0.2
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.3.0.2/24 dev eth1
ip -n client link set eth0 up
ip -n client link set eth1 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client neigh add 10.3.0.1 lladdr 02:00:00:00:03:01 dev eth1 nud permanent

ip rule add fwmark 7 lookup 100
ip route add 10.1.0.0/24 via 10.2.0.2 dev eth1 table 100
sysctl -w net.ipv4.fwmark_reflect=1 net.ipv4.tcp_fwmark_accept=1 net.ipv4.icmp_ratelimit=0

nft -f - <<'NFT'
table inet fr {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        tcp dport { 8082, 8083, 8086 } meta mark set 0x00000007
        udp dport 9000 meta mark set 0x00000007
        icmp type echo-request ip length 128 meta mark set 0x00000007
    }
    chain output {
        type filter hook output priority filter; policy accept;
        meta mark 0x00000007 counter
        meta mark 0x00000009 counter
        meta mark 0x00000000 counter
    }
}
NFT
socat TCP-LISTEN:8082,fork,reuseaddr SYSTEM:'echo accepted-mark' &
socat TCP-LISTEN:8084,fork,reuseaddr SYSTEM:'echo plain' &
socat TCP-LISTEN:8086,fork,reuseaddr,setsockopt-listen=1:36:x09000000 SYSTEM:'echo own-mark' &
