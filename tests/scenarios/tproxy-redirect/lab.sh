# A router that intercepts its clients' connections with a transparent proxy (nft tproxy): TCP to
# port 80 of any address goes to a local listener on 8080 with IP_TRANSPARENT (socat ip-transparent),
# marked 1; `ip rule fwmark 1 lookup 100` with a local default route in table 100 delivers it
# locally, and the listener answers as the address the client asked for. Packets of a connection
# that is already intercepted find its socket (`socket transparent 1`). Port 81 goes to a listener
# without IP_TRANSPARENT: tproxy does not match, the packet is routed as it is (no route: ICMP
# net unreachable). UDP to port 53 goes to a transparent UDP socket on 5353. A listener on the
# router's own port 9000 runs as uid/gid 1000 (setpriv): the output chain counts the router's
# packets by socket owner (meta skuid/skgid); the kernel's own answers have no socket.
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
        meta l4proto tcp socket transparent 1 meta mark set 0x00000001 accept
        tcp dport 80 tproxy to :8080 meta mark set 0x00000001 accept
        tcp dport 81 tproxy to :8081 meta mark set 0x00000001 accept
        udp dport 53 tproxy to :5353 meta mark set 0x00000001 accept
    }
    chain output {
        type filter hook output priority filter; policy accept;
        meta skuid 1000 counter
        meta skgid 1000 counter
        meta skuid 0 counter
    }
}
NFT
socat TCP-LISTEN:8080,ip-transparent,fork,reuseaddr SYSTEM:'echo intercepted' &
socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo plain' &
socat -u UDP-RECV:5353,ip-transparent /dev/null &
setpriv --reuid=1000 --regid=1000 --clear-groups socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo as-1000' &
