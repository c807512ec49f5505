# A router translating ports through nftables maps: LAN 10.1.0.0/24 on eth0, a server net 10.2.0.0/24 on
# eth1. DNAT to a fixed address with the port from a map (dnat to 10.2.0.2 : tcp dport map { ... }), a key
# the map lacks (the lookup breaks the rule: no NAT, the next rule takes the packet), an address . port from
# a map keyed by the port alone and by a concatenation (dnat ip addr . port to ip saddr . tcp dport map),
# an address map and a port map in one statement, dnat to :port (the address kept), redirect with the port
# from a map to a listener of the router, and masquerade with the source port from a map.
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
    map backends {
        type inet_service : inet_service
        elements = { 3001 : 8081 }
    }
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth0" meta l4proto tcp dnat to 10.2.0.2 : tcp dport map { 3000 : 8080, 3009 : 8081 }
        iifname "eth0" tcp dport 3001 dnat to 10.2.0.2 : tcp dport map @backends
        iifname "eth0" tcp dport 3002 dnat to 10.2.0.2 : tcp dport map { 3000 : 8080 }
        iifname "eth0" tcp dport 3002 dnat to 10.2.0.2:9000
        iifname "eth0" ip daddr 10.1.0.1 dnat ip to tcp dport map { 4000 : 10.2.0.2 . 8081, 4001 : 10.2.0.2 . 9000 }
        iifname "eth0" dnat ip addr . port to ip saddr . tcp dport map { 10.1.0.2 . 5000 : 10.2.0.2 . 8080 }
        iifname "eth0" tcp dport 6000 dnat to ip saddr map { 10.1.0.2 : 10.2.0.2 } : tcp sport map { 40009 : 9000 }
        iifname "eth0" tcp dport 6500 dnat to :9100
        iifname "eth0" tcp dport 7000 redirect to :tcp dport map { 7000 : 9100 }
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" tcp dport { 8082, 8083 } masquerade to :tcp sport map { 40010 : 1234 }
    }
}
NFT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip netns exec server socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo s8080' &
ip netns exec server socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo s8081' &
ip netns exec server socat TCP-LISTEN:8082,fork,reuseaddr SYSTEM:'echo s8082' &
ip netns exec server socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo s9000' &
socat TCP-LISTEN:9100,fork,reuseaddr SYSTEM:'echo r9100' &
