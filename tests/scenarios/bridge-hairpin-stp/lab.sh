# The host as a switch (br0, no IP, br_netfilter off, no STP) with four ports: port1 (h1) in
# hairpin mode, port4 (h4) set to blocking, which without STP does not hold: br_set_port_state runs
# br_port_state_selection, and br_make_forwarding turns a blocking port forwarding at once. Static
# neighbours keep ARP out of the way.
ip netns add h1
ip netns add h2
ip netns add h3
ip netns add h4
for ns in h1 h2 h3 h4; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0

ip link add br0 address 02:00:00:00:00:fe type bridge
ip link set br0 up
for i in 1 2 3 4; do
    ip link add port$i address 02:00:00:00:0$i:01 type veth peer name eth0 address 02:00:00:00:0$i:02 netns h$i
    ip link set port$i master br0
    ip link set port$i up
    ip -n h$i link set lo up
    ip -n h$i addr add 10.0.0.$i/24 dev eth0
    ip -n h$i link set eth0 up
done
sleep 2
bridge link set dev port1 hairpin on
ip link set port4 type bridge_slave state 4

ip -n h1 neigh add 10.0.0.2 lladdr 02:00:00:00:02:02 dev eth0 nud permanent
ip -n h2 neigh add 10.0.0.1 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
