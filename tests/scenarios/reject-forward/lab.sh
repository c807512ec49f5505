# A router (IPv4 and IPv6) that rejects in its forward chain instead of dropping: TCP to the
# server's port 25 gets a reset from the router, UDP to port 53 an ICMP port unreachable, and
# everything else from the client an ICMP/ICMPv6 administratively prohibited (icmpx).
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
sysctl -w net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip -6 addr add 2001:db8:2::1/64 dev eth1
ip link set eth0 up
ip link set eth1 up

for ns in client server; do
    ip -n $ns link set lo up
    ip -n $ns link set eth0 up
done
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client route add default via 10.1.0.1
ip -n client -6 route add default via 2001:db8:1::1
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0
ip -n server route add default via 10.2.0.1
ip -n server -6 route add default via 2001:db8:2::1

nft -f - <<'NFT'
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state established,related accept
        icmp type echo-request accept
        icmpv6 type echo-request accept
        tcp dport 25 reject with tcp reset
        udp dport 53 reject
        iifname "eth0" reject with icmpx admin-prohibited
    }
}
NFT
ip netns exec server socat TCP-LISTEN:25,fork,reuseaddr SYSTEM:'echo smtp' &
