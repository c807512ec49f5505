# A router copying traffic to a monitor with nft dup. dup to ADDRESS (nf_dup_ipv4) makes an untracked
# copy with DF set (TTL one less at prerouting), routes it to ADDRESS as the next hop (out of the
# device when one is given) and sends it with ip_local_out: the copy passes the output and
# postrouting chains (a dup it meets there makes no copy of the copy) and leaves with the monitor's
# MAC but its own destination, which the monitor, not forwarding, drops. netdev dup to DEV
# (nf_dup_netdev_egress) sends a clone of the frame as received out of DEV.
ip netns add client
ip netns add server
ip netns add mon
ip netns add mon2
for n in client server mon mon2; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns mon
ip link add eth3 address 02:00:00:00:04:01 type veth peer name eth0 address 02:00:00:00:04:02 netns mon2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip addr add 10.3.0.1/24 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip link set eth3 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n mon link set lo up
ip -n mon addr add 10.3.0.5/24 dev eth0
ip -n mon link set eth0 up
ip -n mon2 link set eth0 up
# no ARP on the wire: its refresh timing differs from run to run
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.3.0.5 lladdr 02:00:00:00:03:02 dev eth2 nud permanent
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent

nft -f - <<'NFT'
table ip d {
    chain dup_pre {
        type filter hook prerouting priority 0; policy accept;
        icmp type echo-request dup to 10.3.0.5 device "eth2"
    }
    chain dup_fwd {
        type filter hook forward priority 0; policy accept;
        udp dport 5001 dup to 10.3.0.5
        udp dport 5001 counter drop
    }
    chain dup_out {
        type filter hook output priority 0; policy accept;
        udp dport 5001 dup to 10.3.0.5 device "eth2"
        ip daddr 10.2.0.0/24 counter
    }
    chain dup_post {
        type filter hook postrouting priority 0; policy accept;
        oifname "eth2" counter
    }
}
table netdev n {
    chain dup_in {
        type filter hook ingress device "eth0" priority 0; policy accept;
        udp dport 6000 dup to "eth3"
    }
}
NFT
