# ICMP rate limiting. The host answers from its own addresses and routes towards r2; its limits are
# tuned so that the traffic's bursts exceed them: per destination net.ipv4.icmp_ratelimit 1000 ms
# (a burst of 6 messages, then one a second), echo replies added to the ratemask (0x1819), and a
# global budget (icmp_msgs_per_sec / icmp_msgs_burst) too large to bind, so that nothing depends on
# icmp_global_consume's random draw. r2 has icmp_msgs_per_sec 0: its global credit never refills,
# so it sends no rate-limited ICMP at all.
ip netns add client
ip netns add r2
for ns in client r2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=1000 net.ipv4.icmp_ratemask=6169
sysctl -w net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
ip netns exec r2 sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_msgs_per_sec=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.12.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip route add 10.3.0.0/24 via 10.12.0.2

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.3/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1

ip -n r2 link set lo up
ip -n r2 addr add 10.12.0.2/24 dev eth0
ip -n r2 link set eth0 up
ip -n r2 route add default via 10.12.0.1

# the host's only socket: UDP 5353 (everything else is a closed port)
socat -u UDP-RECV:5353 /dev/null &
