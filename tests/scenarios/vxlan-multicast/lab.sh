# A multicast underlay: two nodes joined by a veth (192.168.61.0/24), each with a vxlan device vx0
# (VNI 42, port 4789, learning) given `group 239.1.1.1 dev eth0` instead of a remote: the group is the
# all-zeros FDB entry, so broadcast and unknown unicast go to 239.1.1.1 (TTL 1, 01:00:5e:01:01:01),
# and vxlan_open joined the group on eth0 (the IGMPv3 reports are sent when vx0 comes up, before the
# capture). Known unicast goes to the node's own address once vxlan_snoop learned it.
ip netns add node2
ip netns exec node2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns node2
ip addr add 192.168.61.1/24 dev eth0
ip link set eth0 up
ip -n node2 addr add 192.168.61.2/24 dev eth0
ip -n node2 link set eth0 up
ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 group 239.1.1.1 dev eth0
ip addr add 10.10.0.1/24 dev vx0
ip link set vx0 up
ip -n node2 link add vx0 address 02:00:00:00:0a:02 type vxlan id 42 dstport 4789 group 239.1.1.1 dev eth0
ip -n node2 addr add 10.10.0.2/24 dev vx0
ip -n node2 link set vx0 up
# a neighbour whose MAC no node has: frames to it are unknown unicast
ip neigh add 10.10.0.7 lladdr 02:00:00:00:99:07 dev vx0 nud permanent
