# A router with strict reverse path filtering on eth0 (rp_filter=1) and loose on eth2
# (rp_filter=2); eth1 leads to the server. Spoofed sources arrive as crafted frames.
ip netns add client
ip netns add server
ip netns add other
for ns in client server other; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns other
sysctl -w net.ipv4.conf.eth0.rp_filter=1 net.ipv4.conf.eth2.rp_filter=2 net.ipv4.conf.eth0.log_martians=0
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n other link set lo up
ip -n other addr add 10.3.0.2/24 dev eth0
ip -n other link set eth0 up
ip -n other route add default via 10.3.0.1
