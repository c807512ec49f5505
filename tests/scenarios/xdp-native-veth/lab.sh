# A router whose eth0 (a veth) has an XDP program attached in native mode (`xdp`, no mode given:
# veth_xdp_rcv_skb in the NAPI poll; xdp_native.c, committed with the object clang built from it).
# eth1's peer in `dark` stays down, so eth1 has no carrier.
ip netns add client
ip netns add dark
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec dark sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns dark
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.3.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip link set dev eth0 xdp obj xdp_native.o sec xdp
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.3.0.2 lladdr 02:00:00:00:03:02 dev eth1 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
