# IPv6 BIG TCP through a router: every link has MTU 9000 and allows GSO/GRO packets of up to
# 180000 bytes, so the client's TCP sends super-packets over 64 KiB: payload length 0 and a
# hop-by-hop jumbo header the stack adds (ip6_xmit, IP6SKB_FAKEJUMBO). They cross the veth whole.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link set eth0 mtu 9000 gso_max_size 180000 gro_max_size 180000
ip link set eth1 mtu 9000 gso_max_size 180000 gro_max_size 180000
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip -6 addr add 2001:db8:2::1/64 dev eth1
ip link set eth0 up
ip link set eth1 up

ip -n client link set lo up
ip -n client link set eth0 mtu 9000 gso_max_size 180000 gro_max_size 180000
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up
ip -n client -6 route add default via 2001:db8:1::1
ip -n server link set lo up
ip -n server link set eth0 mtu 9000 gso_max_size 180000 gro_max_size 180000
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0
ip -n server link set eth0 up
ip -n server -6 route add default via 2001:db8:2::1
ip netns exec server socat -u TCP6-LISTEN:5001,reuseaddr,fork OPEN:/dev/null &
