# The host behind the committed snapshot in snap/: a router (snapmet-rm) whose routes carry metrics
# and a client (snapmet-rc) on both of its links, built for real by make.sh and read back by the
# collector. `ip -j route` prints "metrics":[{"mtu":1300}] for `mtu lock 1300` too, so the lock
# comes from route4.txt/route6.txt. SnapshotRouteMtuTests reads it.
ip netns add snapmet-rm
ip netns add snapmet-rc
ip -n snapmet-rm link set lo up
ip -n snapmet-rc link set lo up
ip -n snapmet-rm link add eth0 address 02:00:5e:20:00:01 type veth peer name eth0 netns snapmet-rc address 02:00:5e:20:00:02
ip -n snapmet-rm link add eth1 address 02:00:5e:20:01:01 type veth peer name eth1 netns snapmet-rc address 02:00:5e:20:01:02
ip netns exec snapmet-rm sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for d in eth0 eth1; do ip -n snapmet-rm link set $d up; ip -n snapmet-rc link set $d up; done
ip -n snapmet-rm addr add 10.1.0.1/24 dev eth0
ip -n snapmet-rm addr add 10.2.0.1/24 dev eth1
ip -n snapmet-rm -6 addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n snapmet-rm -6 addr add 2001:db8:2::1/64 dev eth1 nodad
ip -n snapmet-rc addr add 10.1.0.2/24 dev eth0
ip -n snapmet-rc addr add 10.2.0.2/24 dev eth1
ip -n snapmet-rc -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n snapmet-rc -6 addr add 2001:db8:2::2/64 dev eth1 nodad
ip -n snapmet-rm neigh add 10.2.0.2 lladdr 02:00:5e:20:01:02 dev eth1 nud permanent
ip -n snapmet-rm -6 neigh add 2001:db8:2::2 lladdr 02:00:5e:20:01:02 dev eth1 nud permanent

ip -n snapmet-rm route add 10.3.0.0/24 via 10.2.0.2 mtu 1400
ip -n snapmet-rm route add 10.4.0.0/24 via 10.2.0.2 mtu lock 1300
ip -n snapmet-rm route add 10.5.0.0/24 via 10.2.0.2 mtu 1280 advmss 1200 table 100
ip -n snapmet-rm route add 10.6.0.0/24 mtu lock 1350 nexthop via 10.2.0.2 nexthop via 10.1.0.2
ip -n snapmet-rm route add 10.7.0.0/24 via 10.2.0.2 advmss 1000
ip -n snapmet-rm -6 route add 2001:db8:3::/64 via 2001:db8:2::2 mtu 1400
ip -n snapmet-rm -6 route add 2001:db8:4::/64 via 2001:db8:2::2 mtu lock 1300
ip -n snapmet-rc route add default via 10.1.0.1
ip -n snapmet-rc -6 route add default via 2001:db8:1::1
