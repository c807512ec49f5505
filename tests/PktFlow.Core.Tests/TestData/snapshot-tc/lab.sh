# tc fixture (snapshot/make.sh snapshot-tc/lab.sh snapshot-tc/lab pftc-): a router pftc-r with clsact
# u32 + mirred filters on eth0 (both directions), an ingress qdisc on eth1, and nothing on eth2.
ip netns add pftc-r
ip netns add pftc-c
ip -n pftc-r link add eth0 address 02:00:00:00:0a:01 type veth peer name eth0 address 02:00:00:00:0a:02 netns pftc-c
ip -n pftc-r link add eth1 address 02:00:00:00:0b:01 type veth peer name eth2 address 02:00:00:00:0b:02
ip -n pftc-r link set eth0 up
ip -n pftc-r link set eth1 up
ip -n pftc-r link set eth2 up
ip -n pftc-c link set eth0 up
ip -n pftc-r addr add 10.5.0.1/24 dev eth0
ip -n pftc-c addr add 10.5.0.2/24 dev eth0
tc -n pftc-r qdisc add dev eth0 clsact
tc -n pftc-r filter add dev eth0 ingress pref 10 protocol ip u32 match ip protocol 6 0xff match ip dport 23 0xffff action mirred egress mirror dev eth2 drop
tc -n pftc-r filter add dev eth0 ingress pref 20 protocol ip u32 match ip src 10.5.0.66/32 classid :1
tc -n pftc-r filter add dev eth0 ingress pref 30 protocol ip u32 match ip protocol 17 0xff match ip dport 7000 0xffff action mirred egress redirect dev eth1
tc -n pftc-r filter add dev eth0 egress protocol ip u32 match ip dport 5353 0xffff action mirred egress mirror dev eth2 drop
tc -n pftc-r qdisc add dev eth1 ingress
tc -n pftc-r filter add dev eth1 parent ffff: protocol all u32 match u32 0 0 action mirred ingress redirect dev eth0
