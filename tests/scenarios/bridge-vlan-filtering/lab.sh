# The host as a VLAN-aware switch and router: bridge br0 with vlan_filtering 1 and four ports,
# br_netfilter off. h1 and h2 are access ports of VLAN 10 (pvid 10 untagged, VLAN 1 removed), h3 an
# access port of VLAN 20, h4 a trunk (10 and 20 tagged, VLAN 1 pvid untagged as by default). The
# bridge itself is a member of VLAN 1 (default pvid, untagged: br0 has 10.0.1.254) and of VLAN 10
# tagged, where the VLAN device br0.10 (10.0.10.254) routes into VLAN 10; it is not in VLAN 20.
ip netns add h1
ip netns add h2
ip netns add h3
ip netns add h4
for ns in h1 h2 h3 h4; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
ip link add br0 address 02:00:00:00:00:fe type bridge vlan_filtering 1
for n in 1 2 3 4; do
    ip link add port$n address 02:00:00:00:0$n:01 type veth peer name eth0 address 02:00:00:00:0$n:02 netns h$n
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n link set eth0 up
done
# access ports: pvid 10 (h1, h2) and 20 (h3), egress untagged, the default VLAN 1 removed
bridge vlan del dev port1 vid 1
bridge vlan add dev port1 vid 10 pvid untagged
bridge vlan del dev port2 vid 1
bridge vlan add dev port2 vid 10 pvid untagged
bridge vlan del dev port3 vid 1
bridge vlan add dev port3 vid 20 pvid untagged
# trunk: 10 and 20 tagged, VLAN 1 stays its pvid (untagged)
bridge vlan add dev port4 vid 10 master
bridge vlan add dev port4 vid 20
# the bridge device itself: VLAN 1 (default pvid untagged) and VLAN 10 tagged, for br0.10
bridge vlan add dev br0 vid 10 self
ip link set br0 up
ip addr add 10.0.1.254/24 dev br0
ip link add link br0 name br0.10 type vlan id 10
ip link set br0.10 up
ip addr add 10.0.10.254/24 dev br0.10

for n in 1 2; do
    ip -n h$n addr add 10.0.10.$n/24 dev eth0
    ip -n h$n route add default via 10.0.10.254
done
ip -n h3 addr add 10.0.20.3/24 dev eth0
# h4: untagged on VLAN 1 (routes to VLAN 10 through the host), VLAN 20 through a VLAN device
ip -n h4 addr add 10.0.1.4/24 dev eth0
ip -n h4 route add 10.0.10.0/24 via 10.0.1.254
ip -n h4 link add link eth0 name eth0.20 address 02:00:00:00:04:02 type vlan id 20
ip -n h4 link set eth0.20 up
ip -n h4 addr add 10.0.20.4/24 dev eth0.20
