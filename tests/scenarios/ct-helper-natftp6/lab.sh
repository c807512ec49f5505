# The NAT side of the FTP conntrack helper over IPv6 on an edge router: the LAN host fd00:10::2 is
# masqueraded behind 2001:db8:2::1 for its own FTP session with the outside server 2001:db8:2::2, and
# runs an FTP server the router publishes as [2001:db8:2::1]:2121 (DNAT). An nft ct helper object
# assigns ftp; on IPv6 the helper reads only EPRT (|2|address|port|) and EPSV's 229 reply, and
# nf_nat_ftp rewrites EPRT's address the full %pI6 way (eight groups of four digits) and gives the data
# connections the control connection's NAT. The forward chain lets data connections through only as
# related.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0
done
sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add fd00:10::1/64 dev eth0 nodad
ip addr add 2001:db8:2::1/64 dev eth1 nodad
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add fd00:10::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip -n client route add default via fd00:10::1
ip -n server link set lo up
ip -n server addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n server link set eth0 up
# static neighbours: no neighbour discovery in the middle of the sessions
ip neigh add fd00:10::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 2001:db8:2::2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -n client neigh add fd00:10::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server neigh add 2001:db8:2::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent

nft -f - <<'NFT'
table inet filter {
    ct helper ftp-standard {
        type "ftp" protocol tcp
        l3proto ip6
    }
    chain pre {
        type filter hook prerouting priority filter; policy accept;
        tcp dport { 21, 2121 } ct helper set "ftp-standard"
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established accept
        ct state related ct helper "ftp" counter accept
        iifname "eth0" ct state new accept
        iifname "eth1" tcp dport 21 ct status dnat ct state new accept
    }
}
table ip6 nat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth1" tcp dport 2121 dnat to [fd00:10::2]:21
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" masquerade
    }
}
NFT
# the outside FTP server's control dialog, one reply per line the client sends (socat unquotes \" and \\)
ip netns exec server socat TCP6-LISTEN:21,reuseaddr SYSTEM:'printf \"220 ready\\r\\n\"; read a; printf \"331 ok\\r\\n\"; read a; printf \"229 Entering Extended Passive Mode (|||40001|)\\r\\n\"; read a; printf \"200 EPRT ok\\r\\n\"; read a; printf \"200 NOOP ok\\r\\n\"; read a; printf \"221 bye\\r\\n\"' &
# the LAN host's FTP server, published as [2001:db8:2::1]:2121; a last 229 whose data connection never comes
ip netns exec client socat TCP6-LISTEN:21,reuseaddr SYSTEM:'printf \"220 ready\\r\\n\"; read a; printf \"331 ok\\r\\n\"; read a; printf \"229 Entering Extended Passive Mode (|||40008|)\\r\\n\"; read a; printf \"200 NOOP ok\\r\\n\"; read a; printf \"229 Entering Extended Passive Mode (|||40009|)\\r\\n\"; read a; printf \"221 bye\\r\\n\"' &
ip netns exec server socat TCP6-LISTEN:40001,reuseaddr SYSTEM:'echo data1' &
ip netns exec client socat TCP6-LISTEN:40004,reuseaddr SYSTEM:'echo data4' &
ip netns exec client socat TCP6-LISTEN:40008,reuseaddr SYSTEM:'echo data8' &
sleep 0.3
