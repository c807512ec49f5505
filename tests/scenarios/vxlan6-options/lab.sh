# Two nodes on an IPv6 underlay (2001:db8:1::/64), two vxlan devices each. vx0 (VNI 42, port 4789):
# the host's sends with `flowlabel 0x12345`, node2's with `udp6zerocsumtx` (UDP checksum 0), and the
# host's vx0 has no `udp6zerocsumrx`, so node2's datagrams are dropped by udpv6_rcv. vx1 (VNI 43, port
# 4790): node2's sends zero checksums and the host's accepts them (`udp6zerocsumrx`); node2's carries
# `flowlabel 0xfffff` (the highest). Overlay neighbours are permanent. (`flowlabel inherit` needs a newer
# iproute2 than this machine's 6.1: not recorded.)
ip netns add node2
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip netns exec node2 sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns node2
ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
ip link set eth0 up
ip -n node2 -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n node2 link set eth0 up
ip -n node2 link set lo up
ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 2001:db8:1::1 remote 2001:db8:1::2 dev eth0 nolearning flowlabel 0x12345
ip addr add 10.42.0.1/24 dev vx0
ip link set vx0 up
ip neigh add 10.42.0.2 lladdr 02:00:00:00:0a:02 dev vx0 nud permanent
ip -n node2 link add vx0 address 02:00:00:00:0a:02 type vxlan id 42 dstport 4789 local 2001:db8:1::2 remote 2001:db8:1::1 dev eth0 nolearning udp6zerocsumtx
ip -n node2 addr add 10.42.0.2/24 dev vx0
ip -n node2 link set vx0 up
ip -n node2 neigh add 10.42.0.1 lladdr 02:00:00:00:0a:01 dev vx0 nud permanent
ip link add vx1 address 02:00:00:00:0b:01 type vxlan id 43 dstport 4790 local 2001:db8:1::1 remote 2001:db8:1::2 dev eth0 nolearning udp6zerocsumrx
ip addr add 10.43.0.1/24 dev vx1
ip link set vx1 up
ip neigh add 10.43.0.2 lladdr 02:00:00:00:0b:02 dev vx1 nud permanent
ip -n node2 link add vx1 address 02:00:00:00:0b:02 type vxlan id 43 dstport 4790 local 2001:db8:1::2 remote 2001:db8:1::1 dev eth0 nolearning flowlabel 0xfffff udp6zerocsumtx
ip -n node2 addr add 10.43.0.2/24 dev vx1
ip -n node2 link set vx1 up
ip -n node2 neigh add 10.43.0.1 lladdr 02:00:00:00:0b:01 dev vx1 nud permanent
