# A router whose routes carry an mtu metric (RTAX_MTU): 10.3.0.0/24 and 2001:db8:3::/64 behind the
# server with mtu 1400, 10.4.0.0/24 with a locked mtu of 1300, though every link is 1500. Routes back
# to the client's second prefixes (10.5.0.0/24, 2001:db8:5::/64) carry mtu 1280, for what the router
# itself sends there. No conntrack. Static neighbours and no DAD, so that no ARP or ND mixes in.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
ip -6 addr add 2001:db8:2::1/64 dev eth1 nodad
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -6 neigh add 2001:db8:2::2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip route add 10.3.0.0/24 via 10.2.0.2 mtu 1400
ip route add 10.4.0.0/24 via 10.2.0.2 mtu lock 1300
ip route add 10.5.0.0/24 via 10.1.0.2 mtu 1280
ip -6 route add 2001:db8:3::/64 via 2001:db8:2::2 mtu 1400
ip -6 route add 2001:db8:5::/64 via 2001:db8:1::2 mtu 1280

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.5.0.2/32 dev lo
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n client -6 addr add 2001:db8:5::2/128 dev lo
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client -6 neigh add 2001:db8:1::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client route add default via 10.1.0.1
ip -n client -6 route add default via 2001:db8:1::1

ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server addr add 10.3.0.2/32 dev lo
ip -n server addr add 10.4.0.2/32 dev lo
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n server -6 addr add 2001:db8:3::2/128 dev lo
ip -n server link set eth0 up
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n server -6 neigh add 2001:db8:2::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n server route add default via 10.2.0.1
ip -n server -6 route add default via 2001:db8:2::1
