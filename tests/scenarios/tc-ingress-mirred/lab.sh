# A router with tc clsact filters on its client side (eth0) and its server side (eth1), u32 and
# mirred (what this 6.18 kernel has built in; flower, matchall, gact, skbedit and vlan are modules it
# lacks). tc ingress runs before the netdev and inet hooks, tc egress after POSTROUTING; a monitor
# namespace behind eth2 receives the mirrored copies (not its MAC: dropped there as OTHERHOST).
ip netns add client
ip netns add server
ip netns add mon
for n in client server mon; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns mon
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.66/24 dev eth0
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
ip neigh add 10.1.0.66 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n mon link set eth0 up

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
# telnet is blocked at the door, a copy goes to the monitor
tc filter add dev eth0 ingress pref 10 protocol ip u32 match ip protocol 6 0xff match ip dport 23 0xffff action mirred egress mirror dev eth2 drop
# UDP 7000 goes straight out of eth1, as it came (no routing, no TTL decrement, no netfilter)
tc filter add dev eth0 ingress pref 20 protocol ip u32 match ip protocol 17 0xff match ip dport 7000 0xffff action mirred egress redirect dev eth1
# 10.1.0.66 is classified first and passes (a classid, no action)
tc filter add dev eth0 ingress pref 30 protocol ip u32 match ip src 10.1.0.66/32 classid :1
# the rest of the client subnet's ICMP is mirrored and goes on
tc filter add dev eth0 ingress pref 40 protocol ip u32 match ip src 10.1.0.0/24 match ip protocol 1 0xff action mirred egress mirror dev eth2
tc qdisc add dev eth1 clsact
# UDP 5353 leaving towards the server is dropped after POSTROUTING
tc filter add dev eth1 egress protocol ip u32 match ip protocol 17 0xff match ip dport 5353 0xffff action mirred egress mirror dev eth2 drop
