# A host with a direct-action cls_bpf program on eth0 ingress (tc_redirect_down.c, committed with the
# object clang built from it) that bpf_redirects UDP by port: to eth1's transmit and to its receive
# (BPF_F_INGRESS) while eth1 is down (never brought up: the noop qdisc), to eth2 (up, on to the
# server), and to eth3, up but with its veth peer in the dark namespace down. ifindexes: lo 1, eth0 2,
# eth1 3, eth2 4, eth3 5.
ip netns add client
ip netns add server
ip netns add dark
ip netns add dark2
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec server sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec dark sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec dark2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns dark
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns server
ip link add eth3 address 02:00:00:00:04:01 type veth peer name eth0 address 02:00:00:00:04:02 netns dark2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth2 up
ip link set eth3 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up

tc qdisc add dev eth0 clsact
tc filter add dev eth0 ingress pref 10 bpf da obj tc_redirect_down.o sec tc
