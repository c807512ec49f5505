# Checksum validation on two routers in a row: host (net.netfilter.nf_conntrack_checksum=1, the default)
# and r2 behind it (nf_conntrack_checksum=0). Frames crafted with a bad transport checksum arrive from a
# packet socket (CHECKSUM_NONE): host's conntrack marks them invalid at PRE_ROUTING (nf_ip_checksum), so
# they are neither tracked nor NATed; r2's tracks them. Counters on ct state invalid in every hook.
ip netns add client
ip netns add r2
ip netns add server
for ns in client r2 server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_checksum=1
ip netns exec r2 sysctl -w net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_checksum=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns r2
ip -n r2 link add eth1 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip route add 10.3.0.0/24 via 10.2.0.2
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n r2 link set lo up
ip -n r2 addr add 10.2.0.2/24 dev eth0
ip -n r2 addr add 10.3.0.1/24 dev eth1
ip -n r2 link set eth0 up
ip -n r2 link set eth1 up
ip -n r2 route add default via 10.2.0.1
ip -n server link set lo up
ip -n server addr add 10.3.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.3.0.1

nft -f - <<'NFT'
table inet filter {
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        tcp dport 2222 tcp flags & (fin | syn | rst | ack) == syn notrack
    }
    chain prerouting {
        type filter hook prerouting priority filter; policy accept;
        ct state invalid counter
        ct state new counter
    }
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 2222 ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
        tcp dport 23 ct state invalid counter drop
        ct state invalid counter
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        udp dport 54 ct state invalid counter drop
        ct state invalid counter
    }
}
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        tcp dport 8080 dnat to 10.3.0.2:80
    }
}
NFT
ip netns exec r2 nft -f - <<'NFT'
table inet filter {
    chain prerouting {
        type filter hook prerouting priority filter; policy accept;
        ct state invalid counter
        ct state new counter
    }
    chain input {
        type filter hook input priority filter; policy accept;
        ct state new counter
    }
}
NFT
socat TCP-LISTEN:22,reuseaddr SYSTEM:'read a; echo "ssh $a"' &
socat TCP-LISTEN:2222,reuseaddr SYSTEM:'read a; echo "ssh $a"' &
ip netns exec server socat TCP-LISTEN:80,reuseaddr SYSTEM:'read a; echo "http $a"' &
