# The nat core (nf_nat_ipv4_ops) is registered with the first nat chain of the namespace and stays
# where it was registered while any nat chain remains, even when that first chain is deleted:
#   1. table ip nat1: a nat chain at prerouting dstnat (-100): the nat core's hooks are registered now
#   2. table ip tie: a filter chain at prerouting dstnat dropping dport 8080 and 2181: registered after
#      the nat core, so it runs before it and sees ports before DNAT
#   3. table ip nat2: a nat chain at prerouting dstnat DNATing 2180 and 2182 to 8080
#   4. nft delete table ip nat1: nat2 still uses the nat core, which keeps its place
#   5. table ip late: a filter chain at dstnat dropping dport 2182, registered last: it runs first
# TCP 2180 -> 8080 is answered (tie sees 2180); had the nat core moved to nat2's registration, after
# tie, tie would see 8080 and drop it.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip link set lo up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table ip nat1 {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
    }
}
NFT
nft -f - <<'NFT'
table ip tie {
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
        iifname "eth0" tcp dport { 2180, 2182 } dnat to 10.1.0.1:8080
    }
}
NFT
nft delete table ip nat1
nft -f - <<'NFT'
table ip late {
    chain prerouting {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport 2182 counter drop
    }
}
NFT
