# The socket-mark host (directly to the client on eth0, or through the router gw on eth1; `ip rule
# fwmark 7 lookup 100` routes marked packets through gw) answering segments that no connection
# wants with resets. A reset for a listener's port is sent by the listener (tcp_v4_do_rcv ->
# tcp_v4_send_reset with the socket): ip_send_unicast_reply's control socket takes the listener's
# sk_mark and sk_priority, so the reset of the listener on 8080 (SO_MARK 7, SO_PRIORITY 5) leaves
# through gw, that of the unmarked listener on 8082 directly, and that of the closed port 8083 (no
# socket: mark 0) directly. The TIME_WAIT socket of a connection 8080 closed first answers an
# out-of-window ACK with an ACK (tcp_v4_timewait_ack) carrying tw_mark, the connection's mark 7.
# The output chain counts by meta mark and meta priority.
ip netns add client
ip netns add gw
for ns in client gw; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip netns exec $ns sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec gw sysctl -w net.ipv4.ip_forward=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns gw
ip -n gw link add eth1 address 02:00:00:00:03:01 type veth peer name eth1 address 02:00:00:00:03:02 netns client
ip link set lo up
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n gw link set lo up
ip -n gw addr add 10.2.0.2/24 dev eth0
ip -n gw addr add 10.3.0.1/24 dev eth1
ip -n gw link set eth0 up
ip -n gw link set eth1 up
ip -n gw neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n gw neigh add 10.3.0.2 lladdr 02:00:00:00:03:02 dev eth1 nud permanent
ip -n gw route add 10.1.0.0/24 via 10.3.0.2
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.3.0.2/24 dev eth1
ip -n client link set eth0 up
ip -n client link set eth1 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client neigh add 10.3.0.1 lladdr 02:00:00:00:03:01 dev eth1 nud permanent

ip rule add fwmark 7 lookup 100
ip route add 10.1.0.0/24 via 10.2.0.2 dev eth1 table 100

nft -f - <<'NFT'
table inet sm {
    chain output {
        type filter hook output priority filter; policy accept;
        meta mark 0x00000007 counter
        meta priority 0:5 counter
        meta mark 0x00000000 counter
    }
}
NFT
socat TCP-LISTEN:8080,fork,reuseaddr,setsockopt-listen=1:36:x07000000,priority=5 SYSTEM:'echo marked' &
socat TCP-LISTEN:8082,fork,reuseaddr SYSTEM:'echo plain' &
