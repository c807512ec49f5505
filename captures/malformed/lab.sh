# malformed: a single-homed host (IPv4 and IPv6 on eth0) receiving broken and martian packets.
# statically configured: no IPv6 router solicitations / SLAAC on the NIC (set before it comes up)
sysctl -w net.ipv6.conf.eth0.accept_ra=0
ip link set eth0 address 02:00:00:00:04:01
ip link set eth0 up
ip addr add 10.1.0.1/24 brd + dev eth0
ip -6 addr add 2001:db8:1::1/64 dev eth0
# every ICMP error the kernel decides to send is really sent (no per-destination rate limit)
sysctl -w net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv6.icmp.ratelimit=0
# listening sockets (bounded lifetime): the model reads them as the host's socket table
timeout 120 socat -u UDP4-RECV:5000 OPEN:/dev/null &
