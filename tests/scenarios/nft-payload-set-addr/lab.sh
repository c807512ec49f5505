# A router rewriting addresses and ports with nftables payload statements (no NAT): before conntrack
# (prerouting priority raw, -300), where conntrack tracks the rewritten packet and the replies come back
# as established, and in forward after conntrack, where the connection keeps the original tuple and the
# replies from the rewritten address are not part of it (ct state invalid: dropped). IPv4 only, static
# neighbours.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.1.0.4 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.4/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0

nft -f - <<'NFT'
table ip raw {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        ip daddr 10.2.0.100 ip daddr set 10.2.0.2
        tcp dport 8080 tcp dport set 80
        icmp type echo-request icmp sequence 7 ip saddr set ip saddr map { 10.1.0.2 : 10.1.0.4 }
    }
}
table inet mangle {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        ip daddr 10.2.0.50 ip daddr set 10.2.0.2
        udp dport 7000 udp dport set 7001
        th dport 9000 th dport set 9001
    }
}
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state invalid counter drop
        ct state established counter
        ct state new counter
    }
}
NFT
