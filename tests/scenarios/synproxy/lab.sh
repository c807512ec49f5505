# SYNPROXY on a router and for the host's own listener: SYNs from eth0 to TCP 80 (forwarded to the
# server) and TCP 22 (the host's listener) skip conntrack in raw prerouting (notrack); the filter chains
# hand untracked and invalid segments to synproxy (nf_conntrack_tcp_loose=0 makes the lone ACK invalid),
# a named synproxy object in forward and a synproxy statement in input, then drop what stays invalid.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_tcp_loose=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 192.168.10.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 192.168.10.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 192.168.10.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1

nft -f - <<'NFT'
table inet filter {
    synproxy web {
        mss 1460
        wscale 7
        timestamp sack-perm
    }
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        iifname "eth0" tcp dport { 22, 80 } tcp flags & (fin | syn | rst | ack) == syn notrack
    }
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 22 ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
        tcp dport 22 ct state invalid counter drop
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 80 ct state invalid,untracked synproxy name "web"
        ct state invalid counter drop
    }
}
NFT
socat TCP-LISTEN:22,reuseaddr SYSTEM:'read a; echo "ssh $a"' &
ip netns exec server socat TCP-LISTEN:80,reuseaddr SYSTEM:'read a; echo "http $a"' &
sleep 0.3
