# Two Kubernetes nodes with flannel's vxlan backend: the host and node2 joined by an underlay
# (192.168.50.0/24), each with a vxlan device flannel.1 (VNI 1, port 8472, nolearning), a pod bridge
# cni0 and one pod. flannel's static entries name the other node: a route to its pod subnet via its
# flannel.1 address (onlink), a permanent neighbour for that address with its flannel.1 MAC, and a
# vxlan FDB entry sending that MAC to its underlay address. A small inet filter table counts the
# outer datagrams in input and the pod traffic in forward (stateful: the host's conntrack holds the
# inner flows and the outer UDP datagrams, whose source ports come from the inner flows' hash).
ip netns add node2
ip netns add pod1
ip netns add pod2
ip netns exec node2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec pod1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec pod2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1
ip netns exec node2 sysctl -w net.ipv4.ip_forward=1
sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec node2 sysctl -w net.bridge.bridge-nf-call-iptables=0
# underlay
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns node2
ip addr add 192.168.50.1/24 dev eth0
ip link set eth0 up
ip -n node2 addr add 192.168.50.2/24 dev eth0
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
ip -n pod1 link set eth0 mtu 1450
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
ip -n pod2 link set eth0 mtu 1450
ip -n pod2 link set eth0 up
ip -n pod2 link set lo up
ip -n pod2 route add default via 10.244.2.1
# flannel.1 on each node
ip link add flannel.1 address 02:00:00:00:0a:01 type vxlan id 1 local 192.168.50.1 dev eth0 dstport 8472 nolearning
ip addr add 10.244.1.0/32 dev flannel.1
ip link set flannel.1 up
ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
ip neigh add 10.244.2.0 lladdr 02:00:00:00:0a:02 dev flannel.1 nud permanent
bridge fdb append 02:00:00:00:0a:02 dev flannel.1 dst 192.168.50.2 self permanent
ip -n node2 link add flannel.1 address 02:00:00:00:0a:02 type vxlan id 1 local 192.168.50.2 dev eth0 dstport 8472 nolearning
ip -n node2 addr add 10.244.2.0/32 dev flannel.1
ip -n node2 link set flannel.1 up
ip -n node2 route add 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink
ip -n node2 neigh add 10.244.1.0 lladdr 02:00:00:00:0a:01 dev flannel.1 nud permanent
bridge -n node2 fdb append 02:00:00:00:0a:01 dev flannel.1 dst 192.168.50.1 self permanent
nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority filter; policy accept;
    udp dport 8472 counter accept
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
