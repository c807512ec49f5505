# A router DNATing ports 2121-2125 of its LAN address to the server 10.2.0.2:21-25 and SNATing what
# leaves eth1, with filter chains around the nat core's fixed places (prerouting -100, postrouting 100),
# which hold whatever priority the nat chains declare (here prerouting 50, postrouting 0):
#   - prerouting -150 drops dport 23: never matches, it sees 2123, before NAT, for every packet
#   - prerouting 0 drops dport 22: the connection to 2122 (DNATed to 22) is dropped from its first SYN
#   - prerouting -100 in a table registered before the nat chains drops dport 25: the nat core, registered
#     later at the same priority, runs first, so the chain sees 25 (2125 DNATed) and drops it
#   - prerouting -100 in a table registered after the nat chains drops dport 2124: it runs before the nat core
#   - postrouting -150 drops source 10.2.0.1 and postrouting 150 source 10.1.0.2: neither ever matches,
#     the first sees packets before SNAT, the second after it
ip netns add lan
ip netns add srv
for ns in lan srv; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns lan
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns srv
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

nft -f - <<'NFT'
table ip early {
    chain tie {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport 25 counter drop
    }
}
table ip mangle {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        tcp dport 23 counter drop
    }
    chain postrouting {
        type filter hook postrouting priority mangle; policy accept;
        ip saddr 10.2.0.1 counter drop
    }
}
table ip nat {
    chain prerouting {
        type nat hook prerouting priority 50; policy accept;
        iifname "eth0" tcp dport 2121 dnat to 10.2.0.2:21
        iifname "eth0" tcp dport 2122 dnat to 10.2.0.2:22
        iifname "eth0" tcp dport 2123 dnat to 10.2.0.2:23
        iifname "eth0" tcp dport 2124 dnat to 10.2.0.2:24
        iifname "eth0" tcp dport 2125 dnat to 10.2.0.2:25
    }
    chain postrouting {
        type nat hook postrouting priority 0; policy accept;
        oifname "eth1" snat to 10.2.0.1
    }
}
table ip filter {
    chain prerouting {
        type filter hook prerouting priority filter; policy accept;
        tcp dport 22 counter drop
    }
    chain postrouting {
        type filter hook postrouting priority 150; policy accept;
        ip saddr 10.1.0.2 counter drop
    }
}
table ip late {
    chain tie {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport 2124 counter drop
    }
}
NFT

ip -n lan link set lo up
ip -n lan addr add 10.1.0.2/24 dev eth0
ip -n lan link set eth0 up
ip -n lan route add default via 10.1.0.1
ip -n srv link set lo up
ip -n srv addr add 10.2.0.2/24 dev eth0
ip -n srv link set eth0 up
ip netns exec srv socat TCP-LISTEN:21,fork,reuseaddr SYSTEM:'echo ftp' &
ip netns exec srv socat TCP-LISTEN:23,fork,reuseaddr SYSTEM:'echo telnet' &
