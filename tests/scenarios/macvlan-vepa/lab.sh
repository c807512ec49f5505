# Two containers c1, c2 with macvlan devices in vepa mode on the host's eth0; the switch on the wire
# is a bridge in hairpin mode on the port towards the host (a VEPA-capable switch), with a client
# behind it. What c1 sends to c2 leaves by eth0, and the switch sends it back: eth0 receives it and
# macvlan_handle_frame gives it to c2.
ip netns add switch
ip netns add client
ip netns add c1
ip netns add c2
for ns in switch client c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:00:01 type veth peer name sw0 address 02:00:00:00:00:f0 netns switch
ip link set eth0 up
ip -n switch link add br0 address 02:00:00:00:00:fe type bridge
ip -n switch link add sw1 address 02:00:00:00:00:f1 type veth peer name eth0 address 02:00:00:00:00:64 netns client
ip -n switch link set sw0 master br0
ip -n switch link set sw1 master br0
ip -n switch link set br0 up
ip -n switch link set sw0 up
ip -n switch link set sw1 up
bridge -n switch link set dev sw0 hairpin on
ip -n client link set lo up
ip -n client addr add 10.0.0.100/24 dev eth0
ip -n client link set eth0 up

ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode vepa
ip link add mv2 link eth0 address 02:42:0a:00:00:03 type macvlan mode vepa
ip link set mv1 netns c1
ip link set mv2 netns c2
ip -n c1 link set lo up
ip -n c1 addr add 10.0.0.2/24 dev mv1
ip -n c1 link set mv1 up
ip -n c2 link set lo up
ip -n c2 addr add 10.0.0.3/24 dev mv2
ip -n c2 link set mv2 up
