# Two nodes joined by an IPv6 underlay (2001:db8::/64), each with a vxlan device vx0 (VNI 42, port
# 4789) whose local and remote are the nodes' underlay addresses: the remote is the all-zeros FDB
# entry, so every inner frame goes to the other node over IPv6 (vxlan_xmit_one's IPv6 branch:
# ip6_route_output, udp_tunnel6_xmit_skb -> ip6tunnel_xmit -> ip6_local_out). Behind vx0 a pod bridge
# cni0 with one IPv4 pod; the route to the other node's pods goes via its vx0 address (a permanent
# neighbour). The underlay neighbour is the kernel's (neighbour discovery). A small inet filter table
# counts the outer datagrams in input and the pod traffic in forward.
ip netns add node2
ip netns add pod1
ip netns add pod2
ip netns exec pod1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec pod2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv4.icmp_ratelimit=0
ip netns exec node2 sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1
ip netns exec node2 sysctl -w net.ipv4.ip_forward=1
sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec node2 sysctl -w net.bridge.bridge-nf-call-iptables=0
# underlay
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns node2
ip -6 addr add 2001:db8::1/64 dev eth0
ip link set eth0 up
ip -n node2 -6 addr add 2001:db8::2/64 dev eth0
ip -n node2 link set eth0 up
ip -n node2 link set lo up
# pods
ip link add cni0 address 02:00:00:00:0b:01 type bridge
ip addr add 10.244.1.1/24 dev cni0
ip link add veth1 address 02:00:00:00:0c:01 type veth peer name eth0 address 02:00:00:00:0d:01 netns pod1
ip link set veth1 master cni0
ip link set veth1 up
ip link set cni0 up
ip -n pod1 addr add 10.244.1.2/24 dev eth0
ip -n pod1 link set eth0 mtu 1430
ip -n pod1 link set eth0 up
ip -n pod1 link set lo up
ip -n pod1 route add default via 10.244.1.1
ip -n node2 link add cni0 address 02:00:00:00:0b:02 type bridge
ip -n node2 addr add 10.244.2.1/24 dev cni0
ip -n node2 link add veth1 address 02:00:00:00:0c:02 type veth peer name eth0 address 02:00:00:00:0d:02 netns pod2
ip -n node2 link set veth1 master cni0
ip -n node2 link set veth1 up
ip -n node2 link set cni0 up
ip -n pod2 addr add 10.244.2.2/24 dev eth0
ip -n pod2 link set eth0 mtu 1430
ip -n pod2 link set eth0 up
ip -n pod2 link set lo up
ip -n pod2 route add default via 10.244.2.1
# vx0 on each node: an IPv6 remote
ip link add vx0 address 02:00:00:00:0a:01 type vxlan id 42 dstport 4789 local 2001:db8::1 remote 2001:db8::2 dev eth0 nolearning
ip addr add 10.42.0.1/24 dev vx0
ip link set vx0 up
ip route add 10.244.2.0/24 via 10.42.0.2 dev vx0
ip neigh add 10.42.0.2 lladdr 02:00:00:00:0a:02 dev vx0 nud permanent
ip -n node2 link add vx0 address 02:00:00:00:0a:02 type vxlan id 42 dstport 4789 local 2001:db8::2 remote 2001:db8::1 dev eth0 nolearning
ip -n node2 addr add 10.42.0.2/24 dev vx0
ip -n node2 link set vx0 up
ip -n node2 route add 10.244.1.0/24 via 10.42.0.1 dev vx0
ip -n node2 neigh add 10.42.0.1 lladdr 02:00:00:00:0a:01 dev vx0 nud permanent
nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 4789 counter accept
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related counter accept
    ip saddr 10.244.0.0/16 counter accept
    ip daddr 10.244.0.0/16 counter accept
  }
}
NFT
ip netns exec pod2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo pod2' &
ip netns exec pod1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo pod1' &
