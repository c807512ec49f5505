# A stateful router (forward: established,related accepted, policy drop, new only from the client)
# and what conntrack calls related: ICMP errors about a tracked flow come back through the filter
# although no rule allows ICMP from the server side.
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
ip -n server route add unreachable 10.9.0.0/16
ip netns exec server sysctl -w net.ipv4.ip_forward=1
ip route add 10.9.0.0/16 via 10.2.0.2

nft -f - <<'NFT'
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established accept
        ct state related counter accept
        iifname "eth0" ct state new accept
    }
}
NFT
