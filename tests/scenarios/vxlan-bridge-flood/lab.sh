# An L2 overlay (Docker overlay / EVPN-style without a controller): three hosts on an underlay switch
# (namespace sw, 192.168.60.0/24), each with a vxlan device vx0 (VNI 42, port 4789, learning) in a
# bridge br0 with one VM. The host's vxlan FDB has two all-zeros entries (node2 and node3), so
# broadcast and unknown unicast go to both; node2 and node3 flood back to the host and each other.
# The host also has a static entry sending vm3's MAC to node3.
ip netns add sw
ip netns add node2
ip netns add node3
ip netns add vm1
ip netns add vm2
ip netns add vm3
ip netns exec sw sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec node2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.bridge.bridge-nf-call-iptables=0
ip netns exec node3 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.bridge.bridge-nf-call-iptables=0
ip netns exec vm1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec vm2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec vm3 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.bridge.bridge-nf-call-iptables=0
# underlay switch
ip -n sw link add sw0 type bridge
ip -n sw link set sw0 up
ip link add eth0 address 02:00:00:00:01:01 type veth peer name p1 address 02:00:00:00:01:11 netns sw
ip -n node2 link add eth0 address 02:00:00:00:01:02 type veth peer name p2 address 02:00:00:00:01:12 netns sw
ip -n node3 link add eth0 address 02:00:00:00:01:03 type veth peer name p3 address 02:00:00:00:01:13 netns sw
ip -n sw link set p1 master sw0
ip -n sw link set p2 master sw0
ip -n sw link set p3 master sw0
ip -n sw link set p1 up
ip -n sw link set p2 up
ip -n sw link set p3 up
ip addr add 192.168.60.1/24 dev eth0
ip link set eth0 up
ip -n node2 addr add 192.168.60.2/24 dev eth0
ip -n node2 link set eth0 up
ip -n node3 addr add 192.168.60.3/24 dev eth0
ip -n node3 link set eth0 up
# overlay: vx0 in br0 on each host, one VM behind it
ip link add br0 address 02:00:00:00:0b:01 type bridge
ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 192.168.60.1 dev eth0
ip link add veth1 address 02:00:00:00:0c:01 type veth peer name eth0 address 02:00:00:00:11:01 netns vm1
ip link set vx0 master br0
ip link set veth1 master br0
ip link set vx0 up
ip link set veth1 up
ip link set br0 up
bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.2
bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.3
bridge fdb add 02:00:00:00:13:01 dev vx0 dst 192.168.60.3 self permanent
ip -n node2 link add br0 address 02:00:00:00:0b:02 type bridge
ip -n node2 link add vx0 address 02:00:00:00:0a:02 type vxlan id 42 dstport 4789 local 192.168.60.2 dev eth0
ip -n node2 link add veth1 address 02:00:00:00:0c:02 type veth peer name eth0 address 02:00:00:00:12:01 netns vm2
ip -n node2 link set vx0 master br0
ip -n node2 link set veth1 master br0
ip -n node2 link set vx0 up
ip -n node2 link set veth1 up
ip -n node2 link set br0 up
bridge -n node2 fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.1
bridge -n node2 fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.3
ip -n node3 link add br0 address 02:00:00:00:0b:03 type bridge
ip -n node3 link add vx0 address 02:00:00:00:0a:03 type vxlan id 42 dstport 4789 local 192.168.60.3 dev eth0
ip -n node3 link add veth1 address 02:00:00:00:0c:03 type veth peer name eth0 address 02:00:00:00:13:01 netns vm3
ip -n node3 link set vx0 master br0
ip -n node3 link set veth1 master br0
ip -n node3 link set vx0 up
ip -n node3 link set veth1 up
ip -n node3 link set br0 up
bridge -n node3 fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.1
bridge -n node3 fdb append 00:00:00:00:00:00 dev vx0 dst 192.168.60.2
ip -n vm1 addr add 10.10.0.1/24 dev eth0
ip -n vm1 link set eth0 mtu 1450
ip -n vm1 link set eth0 up
ip -n vm2 addr add 10.10.0.2/24 dev eth0
ip -n vm2 link set eth0 mtu 1450
ip -n vm2 link set eth0 up
ip -n vm3 addr add 10.10.0.3/24 dev eth0
ip -n vm3 link set eth0 mtu 1450
ip -n vm3 link set eth0 up
