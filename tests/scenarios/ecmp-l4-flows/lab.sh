# The ecmp6-policy1 router (hash policy 1, L4, for both families) with several TCP and UDP flows of
# a few packets each, interleaved, over IPv4 and IPv6 multipath routes and nexthop groups. A capture
# (any packet socket, such as the recorder's tcpdump) gives an skb with ports a per-boot flow hash
# first (skb->l4_hash), so which uplink a flow takes is the kernel's draw: the judge accepts any live
# nexthop the model allows as long as every packet of a flow takes the same one (tests/scenarios/README.md).
ip netns add client
ip netns add r1
ip netns add r2
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for ns in r1 r2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
sysctl -w net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 net.ipv4.fib_multipath_hash_seed=12345

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add up1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r1
ip link add up2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns r2
ip addr add 10.1.0.1/24 dev eth0
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip addr add 10.0.1.1/24 dev up1
ip -6 addr add 2001:db8:a::1/64 dev up1
ip addr add 10.0.2.1/24 dev up2
ip -6 addr add 2001:db8:b::1/64 dev up2
ip link set eth0 up
ip link set up1 up
ip link set up2 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
for r in r1 r2; do
    ip netns exec $r sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    ip -n $r link set lo up
    ip -n $r link set eth0 up
done
ip -n r1 addr add 10.0.1.2/24 dev eth0
ip -n r1 -6 addr add 2001:db8:a::2/64 dev eth0
ip -n r2 addr add 10.0.2.2/24 dev eth0
ip -n r2 -6 addr add 2001:db8:b::2/64 dev eth0
for r in r1 r2; do
    ip -n $r route add blackhole 198.51.100.0/24
    ip -n $r route add blackhole 203.0.113.0/24
    ip -n $r -6 route add blackhole 2001:db8:100::/64
    ip -n $r -6 route add blackhole 2001:db8:200::/64
    ip -n $r -6 route add blackhole 2001:db8:300::/64
done
# nexthop objects need carrier on their device (the peer up): routes come last
ip -6 route add 2001:db8:100::/64 nexthop via 2001:db8:a::2 dev up1 weight 1 nexthop via 2001:db8:b::2 dev up2 weight 2
ip -6 route add 2001:db8:200::/64 nexthop via 2001:db8:a::2 dev up1 nexthop via 2001:db8:b::2 dev up2
ip route add 203.0.113.0/24 nexthop via 10.0.1.2 dev up1 nexthop via 10.0.2.2 dev up2
ip nexthop add id 1 via 10.0.1.2 dev up1
ip nexthop add id 2 via 10.0.2.2 dev up2
ip nexthop add id 10 group 1/2,3
ip route add 198.51.100.0/24 nhid 10
ip nexthop add id 6 via 2001:db8:a::2 dev up1
ip nexthop add id 7 via 2001:db8:b::2 dev up2
ip nexthop add id 60 group 6,2/7
ip -6 route add 2001:db8:300::/64 nhid 60
