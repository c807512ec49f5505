# Two containers c1, c2 with macvlan devices in private mode on the host's eth0, a client on the
# wire: everything a private macvlan sends leaves by eth0, so c1 and c2 never reach each other
# (the switch on the wire, the client's veth, sends nothing back), while the client reaches both.
ip netns add client
ip netns add c1
ip netns add c2
for ns in client c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.0.0.100/24 dev eth0
ip -n client link set eth0 up

ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode private
ip link add mv2 link eth0 address 02:42:0a:00:00:03 type macvlan mode private
ip link set mv1 netns c1
ip link set mv2 netns c2
ip -n c1 link set lo up
ip -n c1 addr add 10.0.0.2/24 dev mv1
ip -n c1 link set mv1 up
ip -n c2 link set lo up
ip -n c2 addr add 10.0.0.3/24 dev mv2
ip -n c2 link set mv2 up
# c1 knows c2's MAC: its unicast goes out of eth0 all the same
ip -n c1 neigh add 10.0.0.4 lladdr 02:42:0a:00:00:03 dev mv1 nud permanent
ip -n c2 addr add 10.0.0.4/32 dev mv2

ip netns exec c2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c2' &
