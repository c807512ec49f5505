# A host that counts its connections (net.netfilter.nf_conntrack_acct=1: conntrack -L lists packets=
# and bytes= per direction) and lets packets in by the time their connection has left (ct expiration):
# a connection's first packet sees 0 (not confirmed yet), a UDP flow's next packets the 30 s the
# tracker just set, and 120 s once the flow has been answered for 2 s; ping's later requests 30 s.
# A prerouting chain asks for conntrack events (ct event set), which changes no verdict.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.netfilter.nf_conntrack_acct=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet filter {
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        ct event set new,destroy
    }
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state new ct expiration 0 counter accept
        udp dport 7000 ct expiration 30s counter accept
        icmp type echo-request ct expiration 29s-30s counter accept
        ct expiration > 1m counter accept
    }
}
NFT
