# A host with two LANs and forwarding left off (the default): transit packets are dropped, the
# host's own addresses on either side still answer.
ip netns add a
ip netns add b
for ns in a b; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns a
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns b
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -n a link set lo up
ip -n a addr add 10.1.0.2/24 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.1.0.1
ip -n b link set lo up
ip -n b addr add 10.2.0.2/24 dev eth0
ip -n b link set eth0 up
ip -n b route add default via 10.2.0.1
