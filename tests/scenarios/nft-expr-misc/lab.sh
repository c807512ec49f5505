# A router (host) between a client (10.1.0.0/24 on veth-c) and a server (10.2.0.0/24 on eth1) whose
# nftables rules read the rarer expressions: meta pkttype (broadcast, multicast, host), meta length
# ranges, meta cpu, meta iiftype, meta protocol, iifname wildcards, ct direction and ct original/reply
# addresses and ports after a DNAT (dnat ... fully-random to one port), fib saddr . iif oif missing
# (reverse-path check) and fib daddr . iif type, numgen random, symhash and an unseeded jhash (drawn at
# random: the judge searches a seed), reject with icmp type host-unreachable / admin-prohibited and
# icmpx type port-unreachable, and fwd to a device in netdev ingress. Every rule counts.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add veth-c address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev veth-c
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set veth-c up
ip link set eth1 up

nft -f - <<'NFT'
table netdev edge {
    chain in {
        type filter hook ingress device "veth-c" priority 0; policy accept;
        udp dport 7050 counter fwd to "eth1"
    }
}
table ip nat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        tcp dport 8081 counter dnat to 10.2.0.2:80 fully-random
        tcp dport 8082 counter dnat to 10.2.0.2:80
    }
}
table inet t {
    chain pre {
        type filter hook prerouting priority filter; policy accept;
        fib saddr . iif oif missing counter drop
        meta pkttype broadcast udp dport 7010 counter drop
        meta pkttype multicast udp dport 7011 counter drop
        meta pkttype host udp dport 7012 counter drop
        meta length 1000-1100 udp dport 7020 counter drop
        meta cpu < 4096 counter
        meta iiftype ether meta protocol ip udp dport 7021 counter drop
        meta iiftype loopback udp dport 7022 counter drop
        iifname "veth*" udp dport 7023 counter drop
        fib daddr . iif type local udp dport 7024 counter drop
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        meta l4proto tcp ct direction original ct original ip saddr 10.1.0.2 ct original ip daddr 10.1.0.1 ct original proto-dst 8082 ct reply ip saddr 10.2.0.2 ct reply proto-src 80 counter drop
        meta l4proto tcp ct direction reply ct reply ip daddr 10.1.0.2 ct original proto-dst 8081 counter
        udp dport 7030 counter numgen random mod 3 vmap { 0 : drop, 1 : accept, 2 : accept }
        udp dport 7031 counter symhash mod 2 vmap { 0 : drop, 1 : accept }
        udp dport 7032 counter jhash ip saddr mod 4 vmap { 0 : drop, 1 : accept, 2 : accept, 3 : accept }
        udp dport 7042 counter reject with icmpx type port-unreachable
    }
}
table ip f {
    chain forward {
        type filter hook forward priority filter; policy accept;
        udp dport 7040 counter reject with icmp type host-unreachable
        udp dport 7041 counter reject with icmp type admin-prohibited
    }
}
NFT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.9.9.9/32 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
