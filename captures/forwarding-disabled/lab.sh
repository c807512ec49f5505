# forwarding-disabled: the forwarding topology and routes, but net.ipv4.ip_forward=0.
#   eth0 10.1.0.1/24  (the capture point; senders live behind it: 10.1.0.2, 10.1.0.3)
#   eth1 10.2.0.1/24  MTU 1280 (gateway 10.2.0.2 behind it)
#   eth2 10.3.0.1/24  (gateway 10.3.0.2 behind it)
# No default route.
# statically configured: no IPv6 router solicitations on the NICs (set before they come up)
sysctl -w net.ipv6.conf.eth0.accept_ra=0
sysctl -w net.ipv6.conf.eth1.accept_ra=0
sysctl -w net.ipv6.conf.eth2.accept_ra=0
ip link set eth0 address 02:00:00:00:02:01
ip link set eth1 address 02:00:00:00:02:11
ip link set eth2 address 02:00:00:00:02:21
ip link set eth1 mtu 1280
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip addr add 10.1.0.1/24 brd + dev eth0
ip addr add 10.2.0.1/24 brd + dev eth1
ip addr add 10.3.0.1/24 brd + dev eth2

sysctl -w net.ipv4.ip_forward=0
# every ICMP error the kernel decides to send is really sent (no per-destination rate limit)
sysctl -w net.ipv4.icmp_ratelimit=0

ip route add 172.16.0.0/16 via 10.2.0.2
# more specific than 172.16.0.0/16, and back out of eth0 (the interface the packets come in on)
ip route add 172.16.9.0/24 via 10.1.0.3 dev eth0
# same prefix twice, lower metric wins
ip route add 172.17.0.0/16 via 10.2.0.2 metric 100
ip route add 172.17.0.0/16 via 10.3.0.2 metric 50
# only in table 100: no rule sends anything there
ip route add 172.18.0.0/16 via 10.3.0.2 table 100
ip route add blackhole 198.51.100.0/24
ip route add unreachable 203.0.113.0/24
ip route add prohibit 192.0.2.0/24
