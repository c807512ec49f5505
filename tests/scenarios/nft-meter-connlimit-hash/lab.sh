# A router whose inet table uses the per-key and shared stateful expressions: a meter (a limit per
# source address), a dynset that adds a per-source limit over, a named limit shared by two rules and
# chosen per source by an object map, ct count over conntrack (per rule and per set element),
# jhash verdict maps with a fixed seed (a concatenation and a lone port), and a DNAT whose address
# comes from numgen inc through a map (two backends on two links). The client sends from two
# addresses; UDP to closed ports: accepted datagrams are answered with ICMP port unreachable.
ip netns add client
ip netns add s1
ip netns add s2
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec s1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec s2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0 net.ipv4.ip_forward=1
ip netns exec s1 sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec s2 sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns s1
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns s2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.3/24 dev eth0
ip -n client link set eth0 up
ip -n s1 link set lo up
ip -n s1 addr add 10.2.0.2/24 dev eth0
ip -n s1 link set eth0 up
ip -n s1 route add default via 10.2.0.1
ip -n s2 link set lo up
ip -n s2 addr add 10.3.0.2/24 dev eth0
ip -n s2 link set eth0 up
ip -n s2 route add default via 10.3.0.1

nft -f - <<'NFT'
table inet t {
    limit lim1 { rate 2/second burst 2 packets }
    limit lim2 { rate 1/second burst 1 packets }
    set over { type ipv4_addr; flags dynamic; }
    set cc { type ipv4_addr; flags dynamic; }
    chain input {
        type filter hook input priority filter; policy accept;
        udp dport 5001 meter m1 { ip saddr limit rate 1/second burst 2 packets } accept
        udp dport 5001 drop
        udp dport 5002 add @over { ip saddr limit rate over 1/second burst 2 packets } drop
        udp dport 5003 limit name "lim1" accept
        udp dport 5004 limit name "lim1" accept
        udp dport 5009 limit name ip saddr map { 10.1.0.2 : "lim1", 10.1.0.3 : "lim2" } accept
        udp dport { 5003, 5004, 5009 } drop
        udp dport 5005 ct count over 2 drop
        udp dport 5006 add @cc { ip saddr ct count over 1 } drop
        udp dport 5007 jhash ip saddr . udp sport mod 2 seed 0xcafe vmap { 0 : accept, 1 : drop }
        udp dport 5008 jhash udp sport mod 4 seed 7 offset 10 vmap { 10 : accept, 11 : drop, 12 : accept, 13 : drop }
    }
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        udp dport 7000 dnat ip to numgen inc mod 2 map { 0 : 10.2.0.2, 1 : 10.3.0.2 }
    }
}
NFT
