# tests/scenarios/vxlan-flannel/lab.sh with its namespaces renamed (the host's commands run in snaptun-h,
# node2, pod1 and pod2 are snaptun-n2, snaptun-p1, snaptun-p2), built for real by make.sh and read back by
# the collector into snap/. SnapshotTunnelTests judges the scenario's wire.pcap against that snapshot
# (its namespaces renamed back), as ScenarioJudge judges it against the lab.
ip netns add snaptun-h
ip netns add snaptun-n2
ip netns add snaptun-p1
ip netns add snaptun-p2
ip netns exec snaptun-n2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec snaptun-p1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec snaptun-p2 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec snaptun-h sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
ip netns exec snaptun-h sysctl -w net.ipv4.ip_forward=1
ip netns exec snaptun-n2 sysctl -w net.ipv4.ip_forward=1
ip netns exec snaptun-h sysctl -w net.bridge.bridge-nf-call-iptables=0
ip netns exec snaptun-n2 sysctl -w net.bridge.bridge-nf-call-iptables=0
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
ip netns exec snaptun-h nft -f - <<'NFT'
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
ip netns exec snaptun-p2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo snaptun-p2' &
ip netns exec snaptun-p1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo snaptun-p1' &
