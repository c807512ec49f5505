# A router (the host) with net.ipv4.ip_forward_use_pmtu=1: a path MTU it learned from its own traffic
# counts for what it forwards too. Its next router b has a route with mtu 1280 towards 10.9.0.0/24
# (c's loopback), none towards 10.8.0.0/24; every link is 1500. IPv6 off, static neighbours.
ip netns add a
ip netns add b
ip netns add c
for ns in a b c; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1 net.ipv4.ip_forward_use_pmtu=1
ip netns exec b sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns a
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns b
ip -n b link add eth1 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns c

ip link set lo up
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip route add default via 10.2.0.2

ip -n a link set lo up
ip -n a addr add 10.1.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n a neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n a route add default via 10.1.0.1

ip -n b link set lo up
ip -n b addr add 10.2.0.2/24 dev eth0
ip -n b addr add 10.3.0.1/24 dev eth1
ip -n b link set eth0 up
ip -n b link set eth1 up
ip -n b neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n b neigh add 10.3.0.2 lladdr 02:00:00:00:03:02 dev eth1 nud permanent
ip -n b route add 10.1.0.0/24 via 10.2.0.1
ip -n b route add 10.9.0.0/24 via 10.3.0.2 mtu 1280
ip -n b route add 10.8.0.0/24 via 10.3.0.2

ip -n c link set lo up
ip -n c addr add 10.3.0.2/24 dev eth0
ip -n c addr add 10.9.0.2/32 dev lo
ip -n c addr add 10.8.0.2/32 dev lo
ip -n c link set eth0 up
ip -n c neigh add 10.3.0.1 lladdr 02:00:00:00:03:01 dev eth0 nud permanent
ip -n c route add default via 10.3.0.1
