# Two routers in a row: client - host (r1) - r2 - server. Static routes only, no firewall.
# ICMP errors are not rate limited, so every expired packet gets its time-exceeded.
ip netns add client
ip netns add r2
ip netns add server
for ns in client r2 server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
ip netns exec r2 sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r2
ip -n r2 link add eth1 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.12.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip route add 10.3.0.0/24 via 10.12.0.2

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1

ip -n r2 link set lo up
ip -n r2 addr add 10.12.0.2/24 dev eth0
ip -n r2 addr add 10.3.0.1/24 dev eth1
ip -n r2 link set eth0 up
ip -n r2 link set eth1 up
ip -n r2 route add default via 10.12.0.1

ip -n server link set lo up
ip -n server addr add 10.3.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.3.0.1
