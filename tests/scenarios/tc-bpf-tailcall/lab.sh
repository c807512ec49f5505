# One host with a direct-action cls_bpf program on eth0 ingress that tail-calls by IP protocol
# (tc_tailcall.c, committed with the object clang built from it): iproute2 loads the entry program
# (sec tc) and fills the program array jmp from the sections 1/6 (TCP) and 1/17 (UDP).
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

tc qdisc add dev eth0 clsact
tc filter add dev eth0 ingress pref 10 bpf da obj tc_tailcall.o sec tc
# tc pinned jmp in the bpffs it mounted in this lab's own mount namespace (ip netns exec made one):
# this process keeps that namespace, the pin, and with it jmp's slots, alive through the traffic
timeout 300 sleep 300 >/dev/null 2>/dev/null &
