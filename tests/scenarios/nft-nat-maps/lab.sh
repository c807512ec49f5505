# A router translating through nftables maps: LAN 10.1.0.0/24 on eth0, a server net 10.2.0.0/24 on
# eth1. DNAT picks address and port from a concatenated map (ip daddr . tcp dport : address . port),
# anonymous and named, or an address from a map with the port after it (map { ... } : 9000); SNAT takes
# the source from a named map (snat to ip saddr map @sources). Replies are translated back by conntrack.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

nft -f - <<'NFT'
table ip nat {
    map ports {
        type ipv4_addr . inet_service : ipv4_addr . inet_service
        elements = { 10.1.0.1 . 2001 : 10.2.0.2 . 8081 }
    }
    map sources {
        type ipv4_addr : ipv4_addr
        elements = { 10.1.0.2 : 10.2.0.1 }
    }
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth0" dnat ip to ip daddr . tcp dport map { 10.1.0.1 . 2000 : 10.2.0.2 . 8080 }
        iifname "eth0" dnat ip addr . port to ip daddr . tcp dport map @ports
        iifname "eth0" tcp dport 2002 dnat to ip daddr map { 10.1.0.1 : 10.2.0.2 } : 9000
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" snat to ip saddr map @sources
    }
}
add element ip nat ports { 10.1.0.1 . 2004 : 10.2.0.2 . 8080 }
NFT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip netns exec server socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo s8080' &
ip netns exec server socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo s8081' &
ip netns exec server socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo s9000' &
