# A router whose eth0 has a generic XDP program (xdp_redirect.c, committed with the object clang built
# from it) that sends UDP to 7777 straight out of eth1 to the server with bpf_redirect: the frame
# never meets the host's stack (no routing, no TTL decrement), the server receives it and answers
# with ICMP port unreachable, which the host routes back. eth1 and the server's eth0 have MTU 1000;
# eth2 is down. The other ports try the redirect's failures and the devmap lookups' fallbacks.
ip netns add client
ip netns add server
ip netns add dark
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec server sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec dark sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 mtu 1000 type veth peer name eth0 address 02:00:00:00:02:02 mtu 1000 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns dark
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set dev eth0 xdpgeneric obj xdp_redirect.o sec xdp
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n dark link set eth0 up
