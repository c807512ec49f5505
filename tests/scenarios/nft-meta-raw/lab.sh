# A router whose forward chain decides by what nftables reads beyond the headers' named fields: the
# devices' group and type (meta iifgroup/oifgroup/oiftype; eth0 is in group 5), raw payloads (@th: the
# first TCP option of a SYN, MSS, read past the header; @ih: the first byte of a UDP payload; @nh: the IPv4 TTL), the clock
# (meta time against the capture time) and a bitwise match (meta mark or 0x3). LAN 10.1.0.0/24 on
# eth0, server net 10.2.0.0/24 on eth1.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip link set eth0 group 5
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

nft -f - <<'NFT'
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        meta iifgroup 5 meta oifgroup "default" meta oiftype ether tcp dport 2000 drop
        meta iifgroup != 5 tcp dport 2001 drop
        tcp dport 2002 @th,160,16 0x0204 drop
        meta l4proto udp @ih,0,8 0x41 drop
        meta l4proto udp @nh,64,8 < 32 drop
        meta time < "2020-01-01" drop
        meta time > "2020-01-01" tcp dport 2003 drop
        meta mark or 0x3 != 0x3 drop
    }
}
NFT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
