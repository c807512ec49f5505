# IPv6 router ("host") between a client LAN (eth0, 2001:db8:1::/64) and a server LAN
# (eth1, 2001:db8:2::/64) with a stateful ip6 forward filter. Neighbour discovery, link-local
# addresses and DAD are the kernel's; router advertisements are not used (static routes).
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip -6 addr add 2001:db8:2::1/64 dev eth1
ip link set eth0 up
ip link set eth1 up

ip -n client link set lo up
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up
ip -n client -6 route add default via 2001:db8:1::1
ip -n server link set lo up
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0
ip -n server link set eth0 up
ip -n server -6 route add default via 2001:db8:2::1

nft -f - <<'NFT'
table ip6 filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
        iifname "eth0" tcp dport 80 accept
    }
}
NFT
ip netns exec server socat TCP6-LISTEN:80,fork,reuseaddr SYSTEM:'echo six' &
