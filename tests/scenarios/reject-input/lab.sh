# One host (IPv4 and IPv6) whose input chain rejects in the ways nftables can: TCP reset, ICMP
# port unreachable (the default for UDP), admin-prohibited (icmpx, for both families), and an
# ICMPv6 address-unreachable; ping is accepted, everything else falls to the accept policy.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 23 reject with tcp reset
        udp dport 69 reject
        tcp dport 25 reject with icmpx admin-prohibited
        meta nfproto ipv6 udp dport 70 reject with icmpv6 addr-unreachable
    }
}
NFT
