# The host is a plain switch: bridge br0 with three ports (h1, h2, h3 behind them), no IP address
# on the bridge, br_netfilter off. A bridge-family table filters: frames from h3's MAC are
# dropped at prerouting, IPv4 between h1 and h2 is limited to ping and TCP/80 in forward, ARP is
# always allowed.
ip netns add h1
ip netns add h2
ip netns add h3
for ns in h1 h2 h3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
ip link add br0 type bridge
ip link set br0 up
for n in 1 2 3; do
    ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n addr add 10.0.0.$n/24 dev eth0
    ip -n h$n link set eth0 up
done

nft -f - <<'NFT'
table bridge filter {
    chain prerouting {
        type filter hook prerouting priority -200; policy accept;
        ether saddr 02:00:00:00:03:02 counter drop
    }
    chain forward {
        type filter hook forward priority 0; policy drop;
        ether type arp accept
        ip protocol icmp accept
        ip daddr 10.0.0.2 tcp dport 80 accept
        ip saddr 10.0.0.2 tcp sport 80 accept
    }
}
NFT
ip netns exec h2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo h2' &
ip netns exec h2 socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:'echo h2' &
