# The tproxy-redirect router with a socket rule for every protocol (`socket transparent 1`, no
# `meta l4proto tcp`): the socket match looks ICMP errors up by the packet they quote
# (nf_sk_lookup_slow_v4 -> extract_icmp4_fields: the quoted header's addresses and ports, seen from
# this side). An ICMP error about a connection a transparent listener took (the client's port
# unreachable quoting the proxy's segment from 198.51.100.10:80) finds that connection's socket, is
# marked 1 and delivered locally by `ip rule fwmark 1 lookup 100` (local default route) to icmp_rcv
# and tcp_v4_err; one quoting a flow no socket has is not marked and has no route (198.51.100.10 is
# not local and the router has no route there): dropped.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link set lo up
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client route add default via 10.1.0.1

ip rule add fwmark 1 lookup 100
ip route add local 0.0.0.0/0 dev lo table 100

nft -f - <<'NFT'
table ip tp {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        socket transparent 1 meta mark set 0x00000001 accept
        tcp dport 80 tproxy to :8080 meta mark set 0x00000001 accept
        icmp type destination-unreachable counter
    }
}
NFT
socat TCP-LISTEN:8080,ip-transparent,fork,reuseaddr SYSTEM:'sleep 4; echo intercepted' &
