# SYNPROXY over IPv6, as the synproxy scenario: SYNs from eth0 to TCP 80 (forwarded to the server) and
# TCP 22 (the host's listener) skip conntrack in raw prerouting (notrack); the filter chains hand
# untracked and invalid segments to synproxy (nf_conntrack_tcp_loose=0 makes the lone ACK invalid), a
# named synproxy object in forward and a synproxy statement in input, then drop what stays invalid.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
sysctl -w net.ipv6.conf.all.forwarding=1 net.netfilter.nf_conntrack_tcp_loose=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 2001:db8:1::1/64 dev eth0 nodad
ip addr add 2001:db8:2::1/64 dev eth1 nodad
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip -n client route add default via 2001:db8:1::1
ip -n server link set lo up
ip -n server addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n server link set eth0 up
ip -n server route add default via 2001:db8:2::1
# the server's link-layer address known in advance: the SYN synproxy sends needs no neighbour solicitation
ip -6 neigh add 2001:db8:2::2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

nft -f - <<'NFT'
table inet filter {
    synproxy web {
        mss 1440
        wscale 7
        timestamp sack-perm
    }
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        iifname "eth0" tcp dport { 22, 80 } tcp flags & (fin | syn | rst | ack) == syn notrack
    }
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 22 ct state invalid,untracked synproxy mss 1440 wscale 7 timestamp sack-perm
        tcp dport 22 ct state invalid counter drop
    }
    chain forward {
        type filter hook forward priority filter; policy accept;
        tcp dport 80 ct state invalid,untracked synproxy name "web"
        ct state invalid counter drop
    }
}
NFT
socat TCP6-LISTEN:22,reuseaddr SYSTEM:'read a; echo "ssh $a"' &
ip netns exec server socat TCP6-LISTEN:80,reuseaddr SYSTEM:'read a; echo "http $a"' &
sleep 0.3
