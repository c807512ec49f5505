# The nat core (nf_nat_ipv4_ops / nf_nat_ipv6_ops) is registered by the first nat chain of the family,
# whichever tool made it, and stays while any nat chain of the family remains (nf_nat_register_fn /
# nf_nat_unregister_fn count users), iptables-nft's and nft's alike:
# IPv4: 1. iptables -t nat -A PREROUTING: iptables-nft makes table ip nat and its PREROUTING chain
#          (type nat, prerouting -100): the IPv4 nat core is registered now
#       2. table ip tie: a filter chain at prerouting -100 dropping dport 8080 and 2181
#       3. table ip nat2: a nat chain at prerouting dstnat DNATing 2180 to 8080
#       4. iptables -t nat -F; iptables -t nat -X: the empty built-in chain is deleted
#       tie was registered after the nat core, so it runs before it: it sees 2180 (answered)
# IPv6: the same the other way round: 1. table ip6 nat1 (an nft nat chain) 2. table ip6 tie6
#       3. ip6tables -t nat -A PREROUTING ... DNAT 2180 to 8080  4. nft delete table ip6 nat1
ip netns add client
sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
ip netns exec client sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip addr add 2001:db8:1::1/64 dev eth0 nodad
ip link set eth0 up
ip link set lo up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

iptables -t nat -A PREROUTING -p tcp --dport 9999 -j ACCEPT
nft -f - <<'NFT'
table ip tie {
    chain prerouting {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport { 2181, 8080 } counter drop
    }
}
table ip6 nat1 {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
    }
}
table ip6 tie6 {
    chain prerouting {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport { 2181, 8080 } counter drop
    }
}
NFT
nft -f - <<'NFT'
table ip nat2 {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth0" tcp dport 2180 dnat to 10.1.0.1:8080
    }
}
NFT
ip6tables -t nat -A PREROUTING -i eth0 -p tcp --dport 2180 -j DNAT --to-destination [2001:db8:1::1]:8080
iptables -t nat -F
iptables -t nat -X
nft delete table ip6 nat1
