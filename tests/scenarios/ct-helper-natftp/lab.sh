# The NAT side of the FTP and TFTP conntrack helpers on an edge router: the LAN host 192.168.10.2 is
# masqueraded behind 10.2.0.1 for its own FTP and TFTP sessions with the outside server 10.2.0.2, and
# runs an FTP server the router publishes as 10.2.0.1:2121 (DNAT). nft ct helper objects assign ftp and
# tftp (automatic assignment is off); nf_nat_ftp / nf_nat_tftp (built in) rewrite the announced
# addresses and give the data connections the control connection's NAT. The forward chain lets data
# connections through only as related.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 192.168.10.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 192.168.10.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 192.168.10.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up

nft -f - <<'NFT'
table inet filter {
    ct helper ftp-standard {
        type "ftp" protocol tcp
        l3proto ip
    }
    ct helper tftp-standard {
        type "tftp" protocol udp
    }
    chain pre {
        type filter hook prerouting priority filter; policy accept;
        tcp dport { 21, 2121 } ct helper set "ftp-standard"
        udp dport 69 ct helper set "tftp-standard"
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established accept
        ct state related ct helper "ftp" counter accept
        ct state related ct helper "tftp" counter accept
        iifname "eth0" ct state new accept
        iifname "eth1" tcp dport 21 ct status dnat ct state new accept
    }
}
table ip nat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth1" tcp dport 2121 dnat to 192.168.10.2:21
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" masquerade
    }
}
NFT
# the outside FTP server's control dialog, one reply per line the client sends (socat unquotes \" and \\)
ip netns exec server socat TCP-LISTEN:21,reuseaddr SYSTEM:'printf \"220 ready\\r\\n\"; read a; printf \"331 ok\\r\\n\"; read a; printf \"227 Entering Passive Mode (10,2,0,2,156,65)\\r\\n\"; read a; printf \"200 PORT ok\\r\\n\"; read a; printf \"200 EPRT ok\\r\\n\"; read a; printf \"200 NOOP ok\\r\\n\"; read a; printf \"221 bye\\r\\n\"' &
# the LAN host's FTP server, published as 10.2.0.1:2121; a last 227 whose data connection never comes
ip netns exec client socat TCP-LISTEN:21,reuseaddr SYSTEM:'printf \"220 ready\\r\\n\"; read a; printf \"331 ok\\r\\n\"; read a; printf \"227 Entering Passive Mode (192,168,10,2,156,71)\\r\\n\"; read a; printf \"229 Entering Extended Passive Mode (|||40008|)\\r\\n\"; read a; printf \"200 NOOP ok\\r\\n\"; read a; printf \"227 Entering Passive Mode (192,168,10,2,156,73)\\r\\n\"; read a; printf \"221 bye\\r\\n\"' &
ip netns exec server socat TCP-LISTEN:40001,reuseaddr SYSTEM:'echo data1' &
ip netns exec client socat TCP-LISTEN:40003,reuseaddr SYSTEM:'cat' &
ip netns exec client socat TCP-LISTEN:40004,reuseaddr SYSTEM:'cat' &
ip netns exec client socat TCP-LISTEN:40007,reuseaddr SYSTEM:'echo data7' &
ip netns exec client socat TCP-LISTEN:40008,reuseaddr SYSTEM:'echo data8' &
ip netns exec server socat -u UDP-RECV:69 /dev/null &
# the TFTP client's port: the answer comes from another port than the request went to
ip netns exec client socat -u UDP-RECV:41069,reuseaddr /dev/null &
sleep 0.3
