# iptables -j CT --zone mark (xt_ct with XT_CT_ZONE_MARK): the template carries no zone id, only the
# flag; nf_conntrack_in takes the id from the packet's mark when it looks the packet up
# (nf_ct_zone_tmpl), truncated to the zone's 16 bits. Marks are set by nft chains by TTL, so the same
# UDP 5-tuple (and ping identifier) with other TTLs lands in other zones:
#   prerouting -310 (before iptables raw at -300): ttl 64 -> mark 0x10007, ttl 32 -> mark 9
#   prerouting -250 (after the CT rule, before conntrack at -200): ttl 16 -> mark 11
# ttl 100 keeps mark 0 (zone 0). Port 5000 uses --zone-orig mark, 6000 --zone mark, 7000 --zone-reply
# mark, ICMP --zone-orig mark.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip link set lo up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

nft -f - <<'NFT'
table ip marks {
    chain early {
        type filter hook prerouting priority -310; policy accept;
        ip ttl 64 meta mark set 0x10007
        ip ttl 32 meta mark set 9
    }
    chain late {
        type filter hook prerouting priority -250; policy accept;
        ip ttl 16 meta mark set 11
    }
}
NFT
iptables-restore <<'IPT'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth0 -p udp --dport 5000 -j CT --zone-orig mark
-A PREROUTING -i eth0 -p udp --dport 6000 -j CT --zone mark
-A PREROUTING -i eth0 -p udp --dport 7000 -j CT --zone-reply mark
-A PREROUTING -i eth0 -p icmp -j CT --zone-orig mark
COMMIT
IPT
