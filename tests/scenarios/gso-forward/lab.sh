# A router whose server-side link has MTU 1400 while the client's link and the server's own end have
# 1500. veth does TSO and UDP GSO, so the client's TCP and UDP_SEGMENT sends cross the client's veth
# as GSO super-packets and reach the router whole: its eth0 capture shows frames larger than the MTU.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 mtu 1400 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server addr add 10.2.0.3/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip netns exec server socat -u TCP-LISTEN:5001,reuseaddr,fork OPEN:/dev/null &
ip netns exec server socat -u UDP-RECV:6001 OPEN:/dev/null &
