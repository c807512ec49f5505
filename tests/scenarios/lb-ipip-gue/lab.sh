# The host side of a load balancer's encapsulation, on a kernel built without the ipip and fou
# modules (CONFIG_NET_IPIP and CONFIG_NET_FOU unset, as on the recording machine): the VIP is on lo
# and a socket listens on it, but no tunnel device and no FOU port can be configured, so what the
# encapsulated packets meet is the plain stack: IP protocol 4 has no handler, UDP 6080 and 5555 have
# no socket. A UDP receiver on 6081 shows a GUE datagram reaching an ordinary socket undecapsulated.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.100.0.10/32 dev lo
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add 10.100.0.10/32 via 10.1.0.1
socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo vip' &
socat -u UDP-RECV:6081 /dev/null &
