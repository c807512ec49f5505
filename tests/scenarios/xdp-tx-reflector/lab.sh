# One host with a generic XDP program on eth0 (xdp_reflect.c, committed with the object clang built
# from it) that answers pings to 10.1.0.1 itself: it swaps the MACs and addresses, makes the request
# a reply and returns XDP_TX, so the reply leaves eth0 (generic_xdp_tx) and the client receives it
# without the host's stack ever seeing the request.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.1.0.3/24 dev eth0
ip link set eth0 up
ip link set dev eth0 xdpgeneric obj xdp_reflect.o sec xdp
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client neigh add 10.1.0.3 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
