# The host as a switch (bridge br0 with its own MAC, two ports, no IP, br_netfilter off) with local
# FDB entries made by hand on port2: 02:00:00:00:07:07 permanent and 02:00:00:00:09:09 local (the
# same thing: NUD_PERMANENT, BR_FDB_LOCAL). Frames from h1 whose source is one of those, port2's own
# MAC or br0's MAC arrive on port1: br_fdb_update only warns ("received packet on port1 with own
# address as source address") and leaves the entry where it is; the frame is bridged as any other.
ip netns add h1
ip netns add h2
for ns in h1 h2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
ip link add br0 address 02:00:00:00:00:10 type bridge
ip link set br0 up
for n in 1 2; do
    ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n addr add 10.0.0.$n/24 dev eth0
    ip -n h$n link set eth0 up
done
bridge fdb add 02:00:00:00:07:07 dev port2 master permanent
bridge fdb add 02:00:00:00:09:09 dev port2 master local
