# conntrack zones and labels on a router joining two customer links that use the same addresses
# (c1 and c2 are both 10.1.0.2): a raw chain gives each connection the zone of the link it came in
# by, in the original direction only (ct original zone set), so the same 5-tuple from c1 and c2 makes
# two entries; both are masqueraded to the server, the second taking another port (the reply tuples
# share zone 0). Replies find their entry by the reply tuple in zone 0, and go back by the link the
# connection came from (c2's connections get ct mark 2, restored into the packet's mark; ip rule fwmark). Labels: the forward
# chain labels connections per link (ct label set 1 / 2), labels c2's telnet attempts 3 and drops
# them by label; connlabel.conf (beside this file) names the bits for conntrack -L.
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

nft -f - <<'NFT'
table inet zones {
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        iifname "eth0" ct original zone set 1
        iifname "eth1" ct original zone set 2
    }
    chain mangle {
        type filter hook prerouting priority mangle; policy accept;
        ct state new iifname "eth1" ct mark set 2
        meta mark set ct mark
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state new iifname "eth0" ct label set 1
        ct state new iifname "eth1" ct label set 2
        ct state new tcp dport 23 ct label 2 ct label set 3
        ct label 3 counter drop
        ct original zone 1 counter
        ct original zone 2 counter
        ct reply zone 0 counter
        ct zone 2 ct label 2 counter
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth2" masquerade
    }
}
NFT

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
