# A vxlan device whose remote is the host's own address: vxlan_xmit_one finds the route to it local and
# takes encap_bypass_if_local (localbypass, the default): the frame goes straight to the device with
# the VNI and port (vxlan_find_vni), no datagram is made. With `dev eth0` the remote carries eth0 as
# its remote_ifindex, and the lookup wants a socket bound to it: none is (the socket is bound to no
# device), so the frame is dropped, VXLAN_VNI_NOT_FOUND, and counted in tx_errors (checked on 6.18).
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth1 address 02:00:00:00:01:02
ip addr add 192.168.62.1/24 dev eth0
ip link set eth0 up
ip link set eth1 up
ip link set lo up
ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 remote 192.168.62.1 dev eth0
ip addr add 10.10.0.1/24 dev vx0
ip link set vx0 up
