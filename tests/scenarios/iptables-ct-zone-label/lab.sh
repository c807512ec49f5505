# ct-zone-label configured with iptables-restore (iptables-nft): the raw table gives each connection
# the zone of the link it came in by in the original direction only (-j CT --zone-orig N), so the same
# 5-tuple from c1 and c2 (both 10.1.0.2) makes two entries, masqueraded to one address (the second
# remapped); replies find their entry in zone 0 and go back by the connection's mark (CONNMARK
# --set-mark 2 for c2, --restore-mark, ip rule fwmark). Labels with -m connlabel --label N --set per
# link; c2's telnet labelled 3 and dropped (the entry of a dropped SYN is never confirmed, so its
# retransmission is new again and labelled and dropped the same way).
# connlabel.conf (beside this file) names the bits for conntrack -L; the rules use bit numbers
# (iptables would read names from /etc/xtables/connlabel.conf).
ip netns add c1
ip netns add c2
ip netns add srv
for ns in c1 c2 srv; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c1
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns c2
ip link add eth2 address 02:00:00:00:09:01 type veth peer name eth0 address 02:00:00:00:09:02 netns srv
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 203.0.113.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
# c2's link is addressed 10.2.0.1 on the router, but c2 uses 10.1.0.2 like c1: static neighbours
# both ways, and replies for it are routed by mark
ip neigh add 10.1.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip route add 10.1.0.0/24 dev eth1 table 102
ip rule add fwmark 2 lookup 102 priority 100

iptables-restore <<'IPT'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth0 -j CT --zone-orig 1
-A PREROUTING -i eth1 -j CT --zone-orig 2
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth1 -m conntrack --ctstate NEW -j CONNMARK --set-mark 0x2
-A PREROUTING -j CONNMARK --restore-mark
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m connlabel --label 3 -j DROP
-A FORWARD -i eth0 -m conntrack --ctstate NEW -m connlabel --label 1 --set
-A FORWARD -i eth1 -m conntrack --ctstate NEW -m connlabel --label 2 --set
-A FORWARD -i eth1 -p tcp -m tcp --dport 23 -m connlabel --label 3 --set -j DROP
-A FORWARD -m connlabel ! --label 2 -m connlabel --label 1
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth2 -j MASQUERADE
COMMIT
IPT

ip -n c1 link set lo up
ip -n c1 addr add 10.1.0.2/24 dev eth0
ip -n c1 link set eth0 up
ip -n c1 route add default via 10.1.0.1
ip -n c2 link set lo up
ip -n c2 addr add 10.1.0.2/24 dev eth0
ip -n c2 link set eth0 up
ip -n c2 neigh add 10.1.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n c2 route add default via 10.1.0.1
ip -n srv link set lo up
ip -n srv addr add 203.0.113.53/24 dev eth0
ip -n srv link set eth0 up
# UDP is not answered: a reply racing the sending socat's close was answered with port unreachable or not
ip netns exec srv socat -u UDP-RECV:53 /dev/null &
ip netns exec srv socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:"echo hello" &
sleep 0.3
