# A router whose eth0 (a veth) has an XDP program attached in native mode (xdpdrv:
# veth_xdp_rcv_skb; xdp_native_redirect.c, committed with the object clang built from it) that
# redirects and sends back frames as xdp_frames. The client's and the server's eth0 and small's eth0
# have a native program that passes everything (xdp_pass.c): it gives them the NAPI their peers need
# to take xdp_frames. eth2's peer in `dark` has none; br0 is a bridge (no ndo_xdp_xmit). eth1 and the
# server's eth0 have MTU 1000; eth3 has 1500 but its peer in `small` 1000. The program's devmap gets
# eth1 (ifindex 3) in slot 0 from bpftool.
ip netns add client
ip netns add server
ip netns add dark
ip netns add small
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec server sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec dark sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec small sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1
ip netns exec client sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 mtu 1000 type veth peer name eth0 address 02:00:00:00:02:02 mtu 1000 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns dark
ip link add br0 address 02:00:00:00:04:01 type bridge
ip link add eth3 address 02:00:00:00:05:01 type veth peer name eth0 address 02:00:00:00:05:02 mtu 1000 netns small
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip addr add 10.4.0.1/24 dev br0
ip addr add 10.5.0.1/24 dev eth3
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip link set br0 up
ip link set eth3 up
ip link set dev eth0 xdpdrv obj xdp_native_redirect.o sec xdp
bpftool map update name xnr_devmap key 0 0 0 0 value 3 0 0 0
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client link set dev eth0 xdpdrv obj xdp_pass.o sec xdp
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n server link set dev eth0 xdpdrv obj xdp_pass.o sec xdp
ip -n dark link set eth0 up
ip -n small addr add 10.5.0.2/24 dev eth0
ip -n small link set eth0 up
ip -n small link set dev eth0 xdpdrv obj xdp_pass.o sec xdp
