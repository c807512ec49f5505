# One host whose input chain decides by named objects: a limit (2/second, burst 2), a quota of
# 256 bytes (shared by a map element and a direct reference) and a quota over 300 bytes, chosen per
# UDP port by a named object map (type inet_service : quota); a named counter map counts per source.
# A dynamic map remembers the mark a packet carried per source address . port (data from the
# packet) and a later packet's mark is read back from it. ether_addr and ifname verdict maps.
# UDP to closed ports: accepted datagrams are answered with ICMP port unreachable.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.3/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet t {
    counter from_client { }
    counter from_other { }
    quota qa { 256 bytes }
    quota qover { over 300 bytes }
    limit lim1 { rate 2/second burst 2 packets }
    map cmap { type ipv4_addr : counter; elements = { 10.1.0.2 : "from_client", 10.1.0.3 : "from_other" } }
    map qmap { type inet_service : quota; elements = { 5002 : "qa", 5003 : "qover" } }
    map pmark { typeof ip saddr . udp sport : meta mark; flags dynamic; }
    map peer { type ipv4_addr : ipv4_addr; flags dynamic,timeout; timeout 10s; }
    map macs { type ether_addr : verdict; elements = { 02:00:00:00:01:02 : drop } }
    map ifs { type ifname : verdict; elements = { "eth0" : accept } }
    chain input {
        type filter hook input priority filter; policy accept;
        counter name ip saddr map @cmap
        icmp type echo-request accept
        udp dport 5001 limit name "lim1" accept
        udp dport 5001 drop
        udp dport 5010 quota name "qa" accept
        udp dport 5010 drop
        udp dport { 5002, 5003 } quota name udp dport map @qmap accept
        udp dport { 5002, 5003 } drop
        udp dport 5004 meta mark set udp sport map { 40004 : 7, 40014 : 9 }
        udp dport 5004 update @pmark { ip saddr . udp sport : meta mark }
        udp dport 5004 add @peer { ip saddr : ip daddr } accept
        udp dport 5006 meta mark set ip saddr . udp sport map @pmark
        udp dport 5006 meta mark 7 accept
        udp dport 5006 drop
        udp dport 5007 ether saddr vmap @macs
        udp dport 5008 iifname vmap @ifs
    }
}
NFT
