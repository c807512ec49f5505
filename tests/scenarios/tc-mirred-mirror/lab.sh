# A router mirroring traffic to monitors with tc mirred (u32 classifier; both built into the 6.18
# recording kernel). Each mirror sends a clone (skb_clone) while the original goes on: at eth0
# ingress the clone leaves eth2 as it arrived (the client's MACs: the monitor drops it as
# OTHERHOST), at eth1 egress after routing (the router's MACs, TTL already decremented); a clone
# sent with the MAC of mon2's device is taken up there; an ingress mirror makes the router receive the clone
# again on eth3 (routed as if it came from mon2); copies of copies nest up to MIRRED_NEST_LIMIT; a mirror to a device that is down sends nothing.
ip netns add client
ip netns add server
ip netns add mon
ip netns add mon2
for n in client server mon mon2; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.conf.all.rp_filter=0
sysctl -w net.ipv4.conf.default.rp_filter=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns mon
ip link add eth3 address 02:00:00:00:04:01 type veth peer name eth0 address 02:00:00:00:02:02 netns mon2
ip link add eth4 address 02:00:00:00:05:01 type veth peer name eth1 address 02:00:00:00:05:02 netns mon
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
# no ARP on the wire: its refresh timing differs from run to run
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n mon link set eth0 up
ip -n mon2 link set lo up
ip -n mon2 addr add 10.2.0.9/24 dev eth0
ip -n mon2 link set eth0 up

nft -f - <<'NFT'
table inet f {
    chain forward {
        type filter hook forward priority 0; policy accept;
        udp dport 5001 counter drop
        counter
    }
}
NFT

tc qdisc add dev eth0 clsact
# ICMP from the client: a copy out of eth2 (to the monitor), the original is routed on
tc filter add dev eth0 ingress pref 10 protocol ip u32 match ip protocol 1 0xff action mirred egress mirror dev eth2
# UDP 5001: a copy out of eth2 before the forward chain drops the original
tc filter add dev eth0 ingress pref 20 protocol ip u32 match ip protocol 17 0xff match ip dport 5001 0xffff action mirred egress mirror dev eth2
# UDP 6000: a copy out of eth4, which is down: nothing is sent
tc filter add dev eth0 ingress pref 30 protocol ip u32 match ip protocol 17 0xff match ip dport 6000 0xffff action mirred egress mirror dev eth4
# UDP 7000: the router receives a copy on eth3 too (ingress mirror): it routes it to the server as well
tc filter add dev eth0 ingress pref 40 protocol ip u32 match ip protocol 17 0xff match ip dport 7000 0xffff action mirred ingress mirror dev eth3
tc qdisc add dev eth1 clsact
# TCP to port 80 leaving towards the server: a copy out of eth3, whose peer in mon2 has the server's MAC (taken up there)
tc filter add dev eth1 egress pref 10 protocol ip u32 match ip protocol 6 0xff match ip dport 80 0xffff action mirred egress mirror dev eth3
tc qdisc add dev eth2 clsact
# UDP 5001 leaving eth2 (the copy from eth0's pref 20) is mirrored out of eth2 again, and that copy
# again: each mirred nests inside the last until MIRRED_NEST_LIMIT (4) stops it with TC_ACT_SHOT
tc filter add dev eth2 egress pref 10 protocol ip u32 match ip protocol 17 0xff match ip dport 5001 0xffff action mirred egress mirror dev eth2
