# Hosts c1 and c2 on the bridge br0 of the host, bridge-nf-call-ip6tables=1 and forwarding off: an ip6
# nat DNAT of 2001:db8::4 (an address nobody has; c1's static neighbour entry sends it to c2's MAC) to
# c2. br_nf_pre_routing_finish_ipv6 routes the DNATed frame again with br0 as input device: the route
# leads back out of br0, so it stays bridged (br_nf_pre_routing_finish_bridge) after br0 solicits c2,
# and the reply is un-DNATed on its way back. IPv4 pings between c1 and c2 add bridged ARP frames, which
# pass NF_ARP_FORWARD (bridge-nf-call-arptables=1) where no nftables chain can be; the host's arp
# input chain sees only the requests that go up to br0.
ip netns add c1
ip netns add c2
modprobe br_netfilter
sysctl -w net.bridge.bridge-nf-call-ip6tables=1
sysctl -w net.bridge.bridge-nf-call-arptables=1

ip link add br0 address 02:00:00:00:00:fe type bridge
ip link set br0 up
ip addr add 2001:db8::fe/64 dev br0 nodad
ip addr add 10.9.0.254/24 dev br0
ip link add veth1 address 02:00:00:00:11:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c1
ip link add veth2 address 02:00:00:00:12:01 type veth peer name eth0 address 02:00:00:00:02:02 netns c2
ip link set veth1 master br0
ip link set veth2 master br0
ip link set veth1 up
ip link set veth2 up
for ns in c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.eth0.accept_ra=0
    ip -n $ns link set lo up
done
ip -n c1 addr add 2001:db8::1/64 dev eth0 nodad
ip -n c1 addr add 10.9.0.1/24 dev eth0
ip -n c1 link set eth0 up
ip -n c2 addr add 2001:db8::2/64 dev eth0 nodad
ip -n c2 addr add 10.9.0.2/24 dev eth0
ip -n c2 link set eth0 up
ip -n c1 neigh add 2001:db8::4 lladdr 02:00:00:00:02:02 dev eth0 nud permanent

nft -f - <<'NFT'
table ip6 nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        ip6 daddr 2001:db8::4 counter dnat to 2001:db8::2
    }
}
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        meta l4proto ipv6-icmp counter
    }
}
table arp a {
    chain input {
        type filter hook input priority filter; policy accept;
        counter
    }
}
NFT
