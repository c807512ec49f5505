# Every netfilter family at every hook it has, on one router: netdev ingress and egress on eth0,
# inet ingress, and prerouting/input/forward/output/postrouting in inet, ip and ip6 tables, arp input
# and output, and the five bridge hooks on br0 (a port to the namespace b1). Each chain counts and
# accepts; a few drop one UDP port each, so the verdict of every kind of chain is seen too.
ip netns add client
ip netns add server
ip netns add b1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv6.conf.all.forwarding=1
ip netns exec b1 sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link add br0 address 02:00:00:00:03:01 type bridge
ip link add port1 address 02:00:00:00:03:11 type veth peer name eth0 address 02:00:00:00:03:02 netns b1
ip link set port1 master br0
ip addr add 10.1.0.1/24 dev eth0
ip addr add fd01::1/64 dev eth0 nodad
ip addr add 10.2.0.1/24 dev eth1
ip addr add fd02::1/64 dev eth1 nodad
ip addr add 10.3.0.1/24 dev br0
ip link set eth0 up
ip link set eth1 up
ip link set br0 up
ip link set port1 up
sysctl -w net.bridge.bridge-nf-call-iptables=0
sysctl -w net.bridge.bridge-nf-call-ip6tables=0

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add fd01::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client route add default via fd01::1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server addr add fd02::2/64 dev eth0 nodad
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server route add default via fd02::1
ip -n b1 link set lo up
ip -n b1 addr add 10.3.0.2/24 dev eth0
ip -n b1 link set eth0 up
ip -n b1 route add default via 10.3.0.1

nft -f - <<'NFT'
table netdev nd {
    chain in_c {
        type filter hook ingress device "eth0" priority 0; policy accept;
        counter
    }
    chain out_c {
        type filter hook egress device "eth0" priority 0; policy accept;
        udp sport 7 counter drop
        counter
    }
}
table inet t {
    chain ing_c {
        type filter hook ingress device "eth0" priority 0; policy accept;
        counter
    }
    chain pre_c {
        type filter hook prerouting priority 0; policy accept;
        counter
    }
    chain in_c {
        type filter hook input priority 0; policy accept;
        counter
    }
    chain fwd_c {
        type filter hook forward priority 0; policy accept;
        counter
    }
    chain out_c {
        type filter hook output priority 0; policy accept;
        counter
    }
    chain post_c {
        type filter hook postrouting priority 0; policy accept;
        counter
    }
}
table ip t4 {
    chain pre_c {
        type filter hook prerouting priority 10; policy accept;
        counter
    }
    chain in_c {
        type filter hook input priority 10; policy accept;
        counter
    }
    chain fwd_c {
        type filter hook forward priority 10; policy accept;
        udp dport 9 counter drop
        counter
    }
    chain out_c {
        type filter hook output priority 10; policy accept;
        counter
    }
    chain post_c {
        type filter hook postrouting priority 10; policy accept;
        counter
    }
}
table ip6 t6 {
    chain pre_c {
        type filter hook prerouting priority 10; policy accept;
        counter
    }
    chain in_c {
        type filter hook input priority 10; policy accept;
        udp dport 9 counter drop
        counter
    }
    chain fwd_c {
        type filter hook forward priority 10; policy accept;
        counter
    }
    chain out_c {
        type filter hook output priority 10; policy accept;
        counter
    }
    chain post_c {
        type filter hook postrouting priority 10; policy accept;
        counter
    }
}
table arp a {
    chain in_c {
        type filter hook input priority 0; policy accept;
        counter
    }
    chain out_c {
        type filter hook output priority 0; policy accept;
        counter
    }
}
table bridge b {
    chain pre_c {
        type filter hook prerouting priority 0; policy accept;
        counter
    }
    chain in_c {
        type filter hook input priority 0; policy accept;
        counter
    }
    chain fwd_c {
        type filter hook forward priority 0; policy accept;
        counter
    }
    chain out_c {
        type filter hook output priority 0; policy accept;
        counter
    }
    chain post_c {
        type filter hook postrouting priority 0; policy accept;
        counter
    }
}
NFT
ip netns exec server socat -u UDP-RECV:9 /dev/null &
socat -u UDP6-RECV:9 /dev/null &
