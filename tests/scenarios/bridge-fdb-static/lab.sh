# The host is a plain switch: bridge br0 with three ports (h1, h2, h3 behind them), no IP address
# on the bridge, br_netfilter off. FDB entries made by hand: 02:00:00:00:03:02 static on port2,
# 02:00:00:00:08:08 dynamic on port2, 02:00:00:00:07:07 permanent (a local entry) on port2; no
# host has these MACs, so without the entries frames to them would be unknown unicast.
ip netns add h1
ip netns add h2
ip netns add h3
for ns in h1 h2 h3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
ip link add br0 type bridge
ip link set br0 up
for n in 1 2 3; do
    ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n addr add 10.0.0.$n/24 dev eth0
    ip -n h$n link set eth0 up
done
bridge fdb add 02:00:00:00:03:02 dev port1 master static
bridge fdb replace 02:00:00:00:03:02 dev port2 master static
bridge fdb add 02:00:00:00:08:08 dev port2 master dynamic
bridge fdb add 02:00:00:00:07:07 dev port2 master
bridge fdb add 02:00:00:00:05:05 dev port3 master static
bridge fdb del 02:00:00:00:05:05 dev port3 master
