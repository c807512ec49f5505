# A router tracking crafted TCP flows between a client and a server that have no sockets for them:
# the endpoints' own stacks answer with RSTs, which their output chains drop, so each flow stays in
# the state its crafted segments left it. The router drops what conntrack finds invalid.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
# static neighbours both ways: no ARP between the crafted segments
ip neigh replace 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh replace 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n client neigh replace 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server neigh replace 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent

nft -f - <<'NFT'
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state invalid counter drop
        counter accept
    }
}
NFT
for ns in client server; do
    ip netns exec $ns nft -f - <<'NFT'
table ip quiet {
    chain output {
        type filter hook output priority filter; policy accept;
        tcp flags rst counter drop
    }
}
NFT
done
