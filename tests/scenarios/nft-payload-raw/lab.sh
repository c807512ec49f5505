# A router rewriting forwarded packets with nftables payload statements beyond addresses and ports:
# raw payloads (@th: no checksum fix, @ih: the UDP checksum fixed, @nh: the IPv4 checksum left stale),
# ip protocol and ip length (the IPv4 checksum fixed, and the UDP one for nft's pseudo-header flag),
# icmp id (the ICMP checksum fixed), a daddr computed with and/or before conntrack, and marks computed
# through nft_bitwise (or, shifts, xor) that decide later writes. IPv4 only, static neighbours.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.1.0.4 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.4/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0


nft -f - <<'NFT'
table ip raw {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        ip daddr 10.2.0.200 ip daddr set ip daddr and 255.255.255.0 or 0.0.0.2
    }
}
table inet mangle {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        meta mark set (meta mark | 0x10) << 8
        meta mark set meta mark >> 4 | 0x3
        ct mark set meta mark xor 0x1
        th dport 7000 @th,16,16 set 7002
        udp dport 7100 @ih,0,32 set 0x41424344
        udp dport 7200 @nh,8,8 set 0xb8
        udp dport 7300 ip protocol set 253
        udp dport 7400 ip length set 40
        meta mark 0x103 udp dport 7500 ip ttl set 33
        icmp type echo-request icmp id set 0x77
    }
    chain postrouting {
        type filter hook postrouting priority mangle; policy accept;
        meta mark set ct mark >> 8
        meta mark 0x1 udp dport 7500 ip id set 0x4242
        ct mark 0x102 udp dport 7600 ip id set 0x4343
    }
}
NFT
