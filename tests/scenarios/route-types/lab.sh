# A router whose main table has the special route types: 10.9.1.0/24 blackhole (dropped
# silently), 10.9.2.0/24 unreachable (ICMP host unreachable), 10.9.3.0/24 prohibit (ICMP
# administratively prohibited), a normal route for 10.9.4.0/24 via the server, and no route at
# all for 10.99.0.0/16 (there is no default route: ICMP net unreachable). ICMP errors from
# ip_error() are limited per source by net.ipv4.route.error_cost (global): each probe uses its
# own source address.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip route add blackhole 10.9.1.0/24
ip route add unreachable 10.9.2.0/24
ip route add prohibit 10.9.3.0/24
ip route add 10.9.4.0/24 via 10.2.0.2

ip -n client link set lo up
for a in 2 3 4 5 6; do ip -n client addr add 10.1.0.$a/24 dev eth0; done
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server addr add 10.9.4.1/24 dev lo
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
