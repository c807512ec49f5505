# A router between a client LAN (eth0) and a server (eth1) with policy rules of every action and
# accept_local on eth0 only (conf.all.accept_local stays 0). The client owns every source address the
# crafted packets use, so it answers the router's ARP requests for them.
ip netns add client
ip netns add srv
for ns in client srv; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $ns link set lo up
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns srv
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
sysctl -w net.ipv4.ip_forward=1 net.ipv4.conf.eth0.accept_local=1
for a in 10.1.0.2 10.1.0.17 10.1.0.33 10.1.0.49 10.1.0.66 10.1.0.80 10.1.0.97; do
    ip -n client addr add $a/24 dev eth0
done
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n srv addr add 10.2.0.2/24 dev eth0
ip -n srv addr add 10.3.0.5/32 dev lo
ip -n srv link set eth0 up
ip -n srv route add default via 10.2.0.1
ip route add 10.3.0.0/16 via 10.2.0.2 table 100
ip rule add oif eth1 blackhole priority 90
ip rule add from 10.1.0.16/28 blackhole priority 100
ip rule add from 10.1.0.32/28 unreachable priority 110
ip rule add from 10.1.0.48/28 prohibit priority 120
ip rule add from 10.1.0.64/28 goto 200 priority 130
ip rule add from 10.1.0.64/26 prohibit priority 140
ip rule add nop priority 150
ip rule add from 10.1.0.64/28 lookup 100 priority 200
ip rule add from 10.1.0.96/28 goto 999 priority 210
