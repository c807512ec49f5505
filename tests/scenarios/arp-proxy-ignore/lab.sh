# The host is a switch (br0, ageing_time 10 s, no IP, br_netfilter off) joining a client and six hosts
# that answer ARP differently: n0 (arp_ignore 0: any local address, also one on lo), n1 (LVS-DR style:
# a VIP on lo, conf.all.arp_ignore 1 with eth0's 0, so the larger 1 wins; arp_announce 2), n2 (arp_ignore
# 2: the target on eth0 and the sender in the same subnet), n3 (arp_ignore 3: not for scope host
# addresses), n8 (arp_ignore 8: never), and r, a router with proxy_arp on eth0 (proxy_delay 0) for the
# server's subnet behind eth1. The client has a /8, so it ARPs for the server directly.
ip netns add client
for ns in n0 n1 n2 n3 n8 r srv; do ip netns add $ns; done
for ns in client n0 n1 n2 n3 n8 r srv; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $ns link set lo up
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
ip link add br0 type bridge ageing_time 3000
ip link set br0 type bridge ageing_time 1000
ip link set br0 up
ip link add p0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:02 netns client
ip link add p1 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns n0
ip link add p2 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns n1
ip link add p3 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns n2
ip link add p4 address 02:00:00:00:04:01 type veth peer name eth0 address 02:00:00:00:04:02 netns n3
ip link add p5 address 02:00:00:00:05:01 type veth peer name eth0 address 02:00:00:00:05:02 netns n8
ip link add p6 address 02:00:00:00:06:01 type veth peer name eth0 address 02:00:00:00:06:02 netns r
for n in 0 1 2 3 4 5 6; do
    ip link set p$n master br0
    ip link set p$n up
done
for ns in client n0 n1 n2 n3 n8 r; do ip -n $ns link set eth0 up; done
ip -n client addr add 10.1.0.2/8 dev eth0
ip -n n0 addr add 10.1.0.10/24 dev eth0
ip -n n0 addr add 10.9.0.10/32 dev lo
ip -n n1 addr add 10.1.0.11/24 dev eth0
ip -n n1 addr add 10.9.0.11/32 dev lo
ip netns exec n1 sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.all.arp_announce=2
ip -n n2 addr add 10.1.0.12/24 dev eth0
ip -n n2 addr add 10.1.4.12/24 dev eth0
ip netns exec n2 sysctl -w net.ipv4.conf.eth0.arp_ignore=2
ip -n n3 addr add 10.1.0.13/24 dev eth0
ip -n n3 addr add 10.9.0.13/32 dev lo scope host
ip -n n3 addr add 10.9.0.23/32 dev lo
ip netns exec n3 sysctl -w net.ipv4.conf.eth0.arp_ignore=3
ip -n n8 addr add 10.1.0.18/24 dev eth0
ip netns exec n8 sysctl -w net.ipv4.conf.eth0.arp_ignore=8
ip -n r addr add 10.1.0.1/24 dev eth0
ip -n r link add eth1 address 02:00:00:00:10:01 type veth peer name eth0 address 02:00:00:00:10:02 netns srv
ip -n r addr add 10.2.0.1/24 dev eth1
ip -n r link set eth1 up
ip -n srv addr add 10.2.0.2/24 dev eth0
ip -n srv link set eth0 up
ip -n srv route add 10.1.0.0/16 via 10.2.0.1
ip netns exec r sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.eth0.proxy_arp=1 net.ipv4.neigh.eth0.proxy_delay=0
