# A router with two uplinks (r1, r2) and multipath routes: 198.51.100.0/24 weighted 1:2,
# 203.0.113.0/24 equal. The L3 hash policy (0) with a fixed seed makes the kernel's choice of
# nexthop reproducible (net.ipv4.fib_multipath_hash_seed, 6.11+); r1 and r2 blackhole both
# prefixes, so each flow ends where the hash sent it. (Policy 1 is not reproducible under a
# capture: the packet socket computes the skb's flow hash with the per-boot key first, and the
# L4 policy then uses that hash.)
ip netns add client
ip netns add r1
ip netns add r2
for ns in client r1 r2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=0 net.ipv4.fib_multipath_hash_seed=12345

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add up1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r1
ip link add up2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns r2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.0.1.1/24 dev up1
ip addr add 10.0.2.1/24 dev up2
ip link set eth0 up
ip link set up1 up
ip link set up2 up
ip route add 198.51.100.0/24 nexthop via 10.0.1.2 dev up1 weight 1 nexthop via 10.0.2.2 dev up2 weight 2
ip route add 203.0.113.0/24 nexthop via 10.0.1.2 dev up1 nexthop via 10.0.2.2 dev up2

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
for r in r1 r2; do
    ip netns exec $r sysctl -w net.ipv4.ip_forward=1
    ip -n $r link set lo up
    ip -n $r link set eth0 up
done
ip -n r1 addr add 10.0.1.2/24 dev eth0
ip -n r2 addr add 10.0.2.2/24 dev eth0
for r in r1 r2; do
    ip -n $r route add blackhole 198.51.100.0/24
    ip -n $r route add blackhole 203.0.113.0/24
done
