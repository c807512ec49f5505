# A vxlan device whose remote is the host's own address and that has no `dev`: vxlan_xmit_one finds the
# route to it local and takes encap_bypass_if_local (localbypass, the default): vxlan_find_vni finds the
# device with the VNI and port, vx1 itself, and vxlan_encap_bypass hands it the frame (__netif_rx): no
# datagram is made, the frame leaves vx1's taps and is received on vx1 again.
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth1 address 02:00:00:00:01:02
ip addr add 192.168.62.1/24 dev eth0
ip link set eth0 up
ip link set eth1 up
ip link set lo up
ip link add vx1 address 02:00:00:00:0b:01 type vxlan id 43 dstport 4790 remote 192.168.62.1
ip addr add 10.11.0.1/24 dev vx1
ip link set vx1 up
