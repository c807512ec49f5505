# ICMPv6 rate limiting at three routers with different settings. This kernel has upstream commit
# 0201eedb69b2 (6.18 stable): net.ipv6.icmp.ratelimit defaults to 100 ms and icmpv6_xrlim_allow no
# longer scales it by the prefix length of the route back, so the host (default ratelimit and
# ratemask 0-1,3-127) treats a client address in the connected /64, 2001:db8:1::4 with a /128 route
# and 2001:db8:99::5 behind the default route alike: 25 jiffies a message, a burst of six. Packet
# too big and echo replies are not in its mask. r2 limits only packet too big, time exceeded and
# echo replies (ratemask 2-3,129) at 8000 ms a message. r3 has icmp_msgs_per_sec 0: its global
# credit never refills, so it sends nothing its mask limits (everything but echo replies). The
# global budgets of the host and r2 are too large to bind, so that nothing depends on
# icmp_global_consume's random draw.
ip netns add client
ip netns add r2
ip netns add r3
for ns in client r2 r3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv6.conf.all.forwarding=1
sysctl -w net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
ip netns exec r2 sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=8000 net.ipv6.icmp.ratemask=2-3,129
ip netns exec r2 sysctl -w net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
ip netns exec r3 sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_msgs_per_sec=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r2
ip -n r2 link add eth1 address 02:00:00:00:03:02 type veth peer name eth0 address 02:00:00:00:03:03 netns r3
ip link set eth1 mtu 1400
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip -6 addr add 2001:db8:12::1/64 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -6 route add 2001:db8:1::4/128 dev eth0
ip -6 route add 2001:db8:3::/48 via 2001:db8:12::2
ip -6 route add 2001:db8:23::/64 via 2001:db8:12::2
ip -6 route add default via 2001:db8:1::2

ip -n client link set lo up
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client -6 addr add 2001:db8:1::3/64 dev eth0
ip -n client -6 addr add 2001:db8:1::4/64 dev eth0
ip -n client -6 addr add 2001:db8:99::5/128 dev eth0
ip -n client link set eth0 up
ip -n client -6 route add default via 2001:db8:1::1

ip -n r2 link set lo up
ip -n r2 link set eth0 mtu 1400
ip -n r2 link set eth1 mtu 1280
ip -n r2 -6 addr add 2001:db8:12::2/64 dev eth0
ip -n r2 -6 addr add 2001:db8:23::2/64 dev eth1
ip -n r2 link set eth0 up
ip -n r2 link set eth1 up
ip -n r2 -6 route add 2001:db8:3::/48 via 2001:db8:23::3
ip -n r2 -6 route add default via 2001:db8:12::1

ip -n r3 link set lo up
ip -n r3 link set eth0 mtu 1280
ip -n r3 -6 addr add 2001:db8:23::3/64 dev eth0
ip -n r3 link set eth0 up
ip -n r3 -6 route add default via 2001:db8:23::2

# one UDP socket per router (port 5353), so that every other port is known to be closed
socat -u UDP6-RECV:5353 /dev/null &
ip netns exec r2 socat -u UDP6-RECV:5353 /dev/null &
ip netns exec r3 socat -u UDP6-RECV:5353 /dev/null &
