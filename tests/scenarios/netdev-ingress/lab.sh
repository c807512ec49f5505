# One host with a netdev-family table on eth0: an ingress chain that drops everything from one
# source address and IPv4 packets with TTL 1 before the IP stack sees them, and counts the rest.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.66/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table netdev edge {
    chain ingress {
        type filter hook ingress device "eth0" priority 0; policy accept;
        ip saddr 10.1.0.66 counter drop
        ip ttl 1 counter drop
        counter
    }
}
NFT
