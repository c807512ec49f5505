# The host behind the committed snapshot in snap/: tests/scenarios/vxlan-flannel's two flannel nodes
# (snaptun-h, snaptun-n2, each with flannel.1: VNI 1, port 8472, nolearning, a route onlink, a
# permanent neighbour and a vxlan FDB entry for the other node) and their pods, plus a vxlan with a
# default remote and the other options a snapshot lists (vx9), a bridge-mode macvlan mv0 on the
# host's eth0 and a private one made on it and moved to snaptun-m. Built for real by make.sh and read
# back by the collector; SnapshotTunnelTests loads both and compares them.
ip netns add snaptun-h
ip netns add snaptun-n2
ip netns add snaptun-p1
ip netns add snaptun-p2
ip netns add snaptun-m
ip netns exec snaptun-h sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1
ip netns exec snaptun-n2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.ip_forward=1
ip netns exec snaptun-p1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec snaptun-p2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec snaptun-m sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# underlay
ip -n snaptun-h link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns snaptun-n2
ip -n snaptun-h addr add 192.168.50.1/24 dev eth0
ip -n snaptun-h link set eth0 up
ip -n snaptun-h link set lo up
ip -n snaptun-n2 addr add 192.168.50.2/24 dev eth0
ip -n snaptun-n2 link set eth0 up
ip -n snaptun-n2 link set lo up
# pods
ip -n snaptun-h link add cni0 address 02:00:00:00:0b:01 type bridge
ip -n snaptun-h addr add 10.244.1.1/24 dev cni0
ip -n snaptun-h link add veth1 address 02:00:00:00:0c:01 type veth peer name eth0 address 02:00:00:00:0d:01 netns snaptun-p1
ip -n snaptun-h link set veth1 master cni0
ip -n snaptun-h link set veth1 up
ip -n snaptun-h link set cni0 up
ip -n snaptun-p1 addr add 10.244.1.2/24 dev eth0
ip -n snaptun-p1 link set eth0 mtu 1450
ip -n snaptun-p1 link set eth0 up
ip -n snaptun-p1 link set lo up
ip -n snaptun-p1 route add default via 10.244.1.1
ip -n snaptun-n2 link add cni0 address 02:00:00:00:0b:02 type bridge
ip -n snaptun-n2 addr add 10.244.2.1/24 dev cni0
ip -n snaptun-n2 link add veth1 address 02:00:00:00:0c:02 type veth peer name eth0 address 02:00:00:00:0d:02 netns snaptun-p2
ip -n snaptun-n2 link set veth1 master cni0
ip -n snaptun-n2 link set veth1 up
ip -n snaptun-n2 link set cni0 up
ip -n snaptun-p2 addr add 10.244.2.2/24 dev eth0
ip -n snaptun-p2 link set eth0 mtu 1450
ip -n snaptun-p2 link set eth0 up
ip -n snaptun-p2 link set lo up
ip -n snaptun-p2 route add default via 10.244.2.1
# flannel.1 on each node
ip -n snaptun-h link add flannel.1 address 02:00:00:00:0a:01 type vxlan id 1 local 192.168.50.1 dev eth0 dstport 8472 nolearning
ip -n snaptun-h addr add 10.244.1.0/32 dev flannel.1
ip -n snaptun-h link set flannel.1 up
ip -n snaptun-h route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
ip -n snaptun-h neigh add 10.244.2.0 lladdr 02:00:00:00:0a:02 dev flannel.1 nud permanent
bridge -n snaptun-h fdb append 02:00:00:00:0a:02 dev flannel.1 dst 192.168.50.2 self permanent
ip -n snaptun-n2 link add flannel.1 address 02:00:00:00:0a:02 type vxlan id 1 local 192.168.50.2 dev eth0 dstport 8472 nolearning
ip -n snaptun-n2 addr add 10.244.2.0/32 dev flannel.1
ip -n snaptun-n2 link set flannel.1 up
ip -n snaptun-n2 route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
ip -n snaptun-n2 neigh add 10.244.1.0 lladdr 02:00:00:00:0a:01 dev flannel.1 nud permanent
bridge -n snaptun-n2 fdb append 02:00:00:00:0a:01 dev flannel.1 dst 192.168.50.1 self permanent
# a vxlan with a default remote, a second remote, a static entry and the options a snapshot lists
ip -n snaptun-h link add vx9 address 02:00:00:00:0a:09 type vxlan id 9 remote 192.168.50.2 local 192.168.50.1 dev eth0 dstport 4789 ttl 64 tos inherit port 40000 50000 noudpcsum
ip -n snaptun-h link set vx9 up
bridge -n snaptun-h fdb append 00:00:00:00:00:00 dev vx9 dst 192.168.50.3 self permanent
bridge -n snaptun-h fdb add 02:00:00:00:0a:99 dev vx9 dst 192.168.50.4 self static
# macvlans on the host's eth0: one beside it, one moved to snaptun-m (its port stays on eth0)
ip -n snaptun-h link add link eth0 name mv0 address 02:00:00:00:0e:01 type macvlan mode bridge
ip -n snaptun-h addr add 192.168.51.1/24 dev mv0
ip -n snaptun-h link set mv0 up
ip -n snaptun-h link add link eth0 name mv1 address 02:00:00:00:0e:02 type macvlan mode private
ip -n snaptun-h link set mv1 netns snaptun-m
ip -n snaptun-m addr add 192.168.51.2/24 dev mv1
ip -n snaptun-m link set mv1 up
ip -n snaptun-m link set lo up
