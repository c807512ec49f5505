# The host as a switch (br0, no IP, br_netfilter off) running the kernel's own STP (stp_state 1 in
# a namespace: no user-space helper), forward_delay 15 s, hello_time 10 s (few BPDUs of its own),
# max_age 6 s. Three ports, brought up last: each starts listening then (br_stp_enable_port), is
# learning forward_delay later and forwarding after another. Static neighbours keep ARP out of the way.
ip netns add h1
ip netns add h2
ip netns add h3
for ns in h1 h2 h3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0

ip link add br0 address 02:00:00:00:00:fe type bridge stp_state 1 forward_delay 1500 hello_time 1000 max_age 600
ip link set br0 up
for i in 1 2 3; do
    ip link add port$i address 02:00:00:00:0$i:01 type veth peer name eth0 address 02:00:00:00:0$i:02 netns h$i
    ip link set port$i master br0
    ip -n h$i link set lo up
    ip -n h$i addr add 10.0.0.$i/24 dev eth0
    ip -n h$i link set eth0 up
done
ip -n h1 neigh add 10.0.0.2 lladdr 02:00:00:00:02:02 dev eth0 nud permanent
ip -n h2 neigh add 10.0.0.1 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip link set port1 up
ip link set port2 up
ip link set port3 up
