# An IPv6 host with a strict ip6 input chain (policy drop): neighbour discovery and ping accepted,
# SSH accepted, UDP rejected with ICMPv6 admin-prohibited, the rest dropped. Link-local and
# global addresses.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table ip6 filter {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 accept
        icmpv6 type echo-request accept
        tcp dport 22 accept
        meta l4proto udp reject with icmpv6 admin-prohibited
    }
}
NFT
socat TCP6-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh6' &
