# local-delivery: a single-homed host, two IPv4 subnets on its only NIC.
# eth0 is the NIC (the capture point is the wire behind it).
# statically configured: no IPv6 router solicitations / SLAAC on the NIC (set before it comes up)
sysctl -w net.ipv6.conf.eth0.accept_ra=0
ip link set eth0 address 02:00:00:00:01:01
ip link set eth0 up
ip addr add 10.1.0.1/24 brd + dev eth0
# secondary subnet on the same NIC, deliberately without "brd +"
ip addr add 192.168.7.1/24 dev eth0
ip route add default via 10.1.0.254
# every ICMP error the kernel decides to send is really sent (no per-destination rate limit)
sysctl -w net.ipv4.icmp_ratelimit=0
# listening sockets (bounded lifetime): the model reads them as the host's socket table
timeout 120 socat -u TCP4-LISTEN:8080,reuseaddr,fork OPEN:/dev/null &
timeout 120 socat -u UDP4-RECV:5000 OPEN:/dev/null &
