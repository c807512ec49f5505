# A router ("host") whose next hops do not answer: 10.9.1.0/24 and 2001:db8:9::/64 are routed via
# 10.2.0.99 / 2001:db8:2::99 on eth1, addresses nobody on the server LAN owns; 10.9.2.0/24 via
# 10.3.0.99 on eth2, whose peer namespace (dead) has no address at all. The neighbour parameters
# are tuned so that resolution fails quickly: 2 multicast solicitations 400 ms apart. eth2's
# queue of packets awaiting resolution holds fewer bytes than any packet (unres_qlen_bytes 1), so
# each new packet pushes out the one before it (NEIGH_QUEUEFULL).
ip netns add client
ip netns add server
ip netns add dead
for ns in client server dead; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns dead
sysctl -w net.ipv4.neigh.eth1.mcast_solicit=2 net.ipv4.neigh.eth1.retrans_time_ms=400
sysctl -w net.ipv6.neigh.eth1.mcast_solicit=2 net.ipv6.neigh.eth1.retrans_time_ms=400
sysctl -w net.ipv4.neigh.eth2.mcast_solicit=2 net.ipv4.neigh.eth2.retrans_time_ms=400 net.ipv4.neigh.eth2.unres_qlen_bytes=1
ip addr add 10.1.0.1/24 dev eth0
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip -6 addr add 2001:db8:2::1/64 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip route add 10.9.1.0/24 via 10.2.0.99
ip route add 10.9.2.0/24 via 10.3.0.99
ip -6 route add 2001:db8:9::/64 via 2001:db8:2::99

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client -6 route add default via 2001:db8:1::1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0
ip -n server link set eth0 up
ip -n dead link set eth0 up
