# The host learns path MTUs from the ICMP errors it receives (fnhe / IPv6 route exceptions). Its
# router r has routes with an mtu metric of 1280 towards the far prefixes 10.3.0.0/24 and
# 2001:db8:3::/64 (links are all 1500), so the host's DF packets there get fragmentation needed /
# packet too big; 10.4.0.0/24 and 2001:db8:4::/64 have no metric (forged errors about them test what
# the host accepts). The host's own route to 10.4.0.6 has a locked mtu. Exceptions expire after 15 s
# (net.ipv4.route.mtu_expires, net.ipv6.route.mtu_expires) so that the capture shows one expire.
# Static neighbours and no DAD, so that no ARP or ND mixes in.
ip netns add r
ip netns add far
for ns in r far; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.route.mtu_expires=15 net.ipv6.route.mtu_expires=15
ip netns exec r sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

ip link add eth0 address 02:00:00:00:01:02 type veth peer name eth0 address 02:00:00:00:01:01 netns r
ip -n r link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns far

ip link set lo up
ip addr add 10.1.0.2/24 dev eth0
ip -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip link set eth0 up
ip neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -6 neigh add 2001:db8:1::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip route add default via 10.1.0.1
ip -6 route add default via 2001:db8:1::1
ip route add 10.4.0.6/32 via 10.1.0.1 mtu lock 1500

ip -n r link set lo up
ip -n r addr add 10.1.0.1/24 dev eth0
ip -n r addr add 10.2.0.1/24 dev eth1
ip -n r -6 addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n r -6 addr add 2001:db8:2::1/64 dev eth1 nodad
ip -n r link set eth0 up
ip -n r link set eth1 up
ip -n r neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n r neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n r -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n r -6 neigh add 2001:db8:2::2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n r route add 10.3.0.0/24 via 10.2.0.2 mtu 1280
ip -n r route add 10.4.0.0/24 via 10.2.0.2
ip -n r -6 route add 2001:db8:3::/64 via 2001:db8:2::2 mtu 1280
ip -n r -6 route add 2001:db8:4::/64 via 2001:db8:2::2

ip -n far link set lo up
ip -n far addr add 10.2.0.2/24 dev eth0
ip -n far addr add 10.3.0.2/32 dev lo
ip -n far addr add 10.4.0.3/32 dev lo
ip -n far addr add 10.4.0.4/32 dev lo
ip -n far addr add 10.4.0.5/32 dev lo
ip -n far addr add 10.4.0.6/32 dev lo
ip -n far -6 addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n far -6 addr add 2001:db8:3::2/128 dev lo
ip -n far -6 addr add 2001:db8:4::3/128 dev lo
ip -n far -6 addr add 2001:db8:4::4/128 dev lo
ip -n far -6 addr add 2001:db8:4::5/128 dev lo
ip -n far link set eth0 up
ip -n far neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n far -6 neigh add 2001:db8:2::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n far route add default via 10.2.0.1
ip -n far -6 route add default via 2001:db8:2::1
