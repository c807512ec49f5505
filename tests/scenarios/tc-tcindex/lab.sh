# skb->tc_index from a classification (tc_run: TC_H_MIN(res.classid) on TC_ACT_OK) read by a later
# tc program (tc_tcindex.c, committed with the object clang built from it). A router: eth0 ingress
# gives UDP to 7001 classid ffff:5 and UDP to 7002 classid 1:16 (u32 without actions: TC_ACT_OK),
# a direct-action cls_bpf with classid 2:8 ends UDP to 7003 with tc_classid 7 written (2:7) and
# UDP to 7004 as it is (2:8), UDP to 7005 matches nothing; eth1 egress drops what tc_index ties to
# its port (7001, 7003, 7004), 7002 (0x16) and 7005 (0) reach the server (port unreachable).
ip netns add client
ip netns add server
for n in client server; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
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
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

tc qdisc add dev eth0 clsact
tc filter add dev eth0 ingress pref 10 protocol ip u32 match ip dport 7001 0xffff classid ffff:5
tc filter add dev eth0 ingress pref 20 protocol ip u32 match ip dport 7002 0xffff classid 1:16
tc filter add dev eth0 ingress pref 30 bpf da obj tc_tcindex.o sec set_classid classid 2:8
tc qdisc add dev eth1 clsact
tc filter add dev eth1 egress pref 10 bpf da obj tc_tcindex.o sec by_index
