# The host as a switch that rewrites link-layer headers with nftables payload statements: bridge br0
# (02:00:00:00:00:fe, 10.0.0.254) with three ports (h1, h2, h3 behind them), br_netfilter off.
# A netdev ingress chain on port1 and a bridge prerouting chain write ether daddr, vlan id and vlan pcp.
ip netns add h1
ip netns add h2
ip netns add h3
for ns in h1 h2 h3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
ip link add br0 address 02:00:00:00:00:fe type bridge
ip link set br0 up
ip addr add 10.0.0.254/24 dev br0
for n in 1 2 3; do
    ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n addr add 10.0.0.$n/24 dev eth0
    ip -n h$n link set eth0 up
done
ip neigh add 10.0.0.1 lladdr 02:00:00:00:01:02 dev br0 nud permanent
# h1's neighbours by hand: the host under two addresses that are not br0's (rewritten on the way in), h2
ip -n h1 neigh add 10.0.0.2 lladdr 02:00:00:00:02:02 dev eth0 nud permanent
ip -n h3 neigh add 10.0.0.1 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

nft -f - <<'NFT'
table netdev edge {
    chain port1 {
        type filter hook ingress device "port1" priority 0; policy accept;
        ether daddr 02:00:00:00:00:99 ip daddr 10.0.0.254 ether daddr set 02:00:00:00:00:fe
    }
}
table bridge rewrite {
    chain prerouting {
        type filter hook prerouting priority 0; policy accept;
        ether daddr 02:00:00:00:00:98 ip daddr 10.0.0.254 ether daddr set 02:00:00:00:00:fe
        iifname "port1" icmp type echo-request ip daddr 10.0.0.2 ether daddr set 02:00:00:00:03:02
        vlan id 10 vlan id set 20
        vlan id 20 vlan pcp set 3 counter
        ether type 8021q vlan id 20 counter
    }
}
NFT
