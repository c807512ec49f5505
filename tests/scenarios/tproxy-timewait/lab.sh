# The tproxy-redirect router, with the connections its sockets close first: each server below
# (socat SYSTEM:'echo ...') writes a line and closes, so the host's end of every connection sits
# in TIME_WAIT (60 s, TCP_TIMEWAIT_LEN) when the client connects again from the same port.
# Port 80: `socket transparent 1` first, then tproxy (the usual recipe); port 82: tproxy only;
# 9000: a plain listener of the router's own address.
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
        tcp dport 80 socket transparent 1 meta mark set 0x00000001 accept
        tcp dport 80 tproxy to :8080 meta mark set 0x00000001 accept
        tcp dport 82 tproxy to :8080 meta mark set 0x00000001 accept
    }
}
NFT
socat TCP-LISTEN:8080,ip-transparent,fork,reuseaddr SYSTEM:'echo intercepted' &
socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo plain' &
