# ipv6: an IPv6 router with two NICs (no IPv4 addresses).
#   eth0 2001:db8:1::1/64  (the capture point; senders behind it: 2001:db8:1::2, 2001:db8:1::3)
#   eth1 2001:db8:2::1/64  MTU 1280 (gateway 2001:db8:2::2 behind it)
# No default route.
# forwarding first: a router sends no router solicitations when its NICs come up
sysctl -w net.ipv6.conf.all.forwarding=1
ip link set eth0 address 02:00:00:00:03:01
ip link set eth1 address 02:00:00:00:03:11
ip link set eth1 mtu 1280
ip link set eth0 up
ip link set eth1 up
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip -6 addr add 2001:db8:2::1/64 dev eth1
# every ICMPv6 error the kernel decides to send is really sent (no per-destination rate limit)
sysctl -w net.ipv6.icmp.ratelimit=0

ip -6 route add 2001:db8:99::/48 via 2001:db8:2::2
# more specific, and back out of eth0 (the interface the packets come in on)
ip -6 route add 2001:db8:99:9::/64 via 2001:db8:1::3 dev eth0
ip -6 route add unreachable 2001:db8:dead::/48
ip -6 route add prohibit 2001:db8:beef::/48
ip -6 route add blackhole 2001:db8:bad::/48
