# A router whose iptables-nft rules were loaded before an nft table with chains of the same priorities
# (kernel: of equal priorities the hook registered last runs first, nf_hook_entries_grow):
#   - the iptables nat table (DNAT 2121-2125 to the server's 21-25) registered the nat core first, so the nft
#     chain at prerouting -100 runs before it: it drops 2124 (as sent) and never sees 25 (2125 DNATed)
#   - iptables FORWARD (filter, 0) came before the nft forward chain at 0, which runs first: it marks
#     port 22 with 0x1 and iptables drops what carries that mark; iptables marks port 23 with 0x2 only
#     after the nft chain looked for that mark, so 23 goes through
#   - iptables mangle INPUT came before the nft input chain at -150, but iptables-restore (without
#     --noflush) then added the mangle table again: its INPUT chain now runs first and marks 8081 with
#     0x4 before the nft chain drops that mark; 8082 is not marked (the router answers RST)
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

iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2121 -j DNAT --to-destination 10.2.0.2:21
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2122 -j DNAT --to-destination 10.2.0.2:22
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2123 -j DNAT --to-destination 10.2.0.2:23
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2124 -j DNAT --to-destination 10.2.0.2:24
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2125 -j DNAT --to-destination 10.2.0.2:25
iptables -t nat -A POSTROUTING -o eth1 -j SNAT --to-source 10.2.0.1
iptables -A FORWARD -p tcp --dport 22 -m mark --mark 0x1 -j DROP
iptables -A FORWARD -p tcp --dport 23 -j MARK --set-mark 0x2
iptables -t mangle -A INPUT -p tcp --dport 8081 -j MARK --set-mark 0x4

nft -f - <<'NFT'
table ip tie {
    chain pre_tie {
        type filter hook prerouting priority dstnat; policy accept;
        tcp dport 2124 counter drop
        tcp dport 25 counter drop
    }
    chain fwd_tie {
        type filter hook forward priority filter; policy accept;
        tcp dport 22 meta mark set 0x1
        tcp dport 23 meta mark 0x2 counter drop
    }
    chain in_tie {
        type filter hook input priority mangle; policy accept;
        tcp dport 8081 meta mark 0x4 counter drop
    }
}
NFT

iptables-restore <<'IPT'
*mangle
:INPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 8081 -j MARK --set-mark 0x4
COMMIT
IPT

ip -n lan link set lo up
ip -n lan addr add 10.1.0.2/24 dev eth0
ip -n lan link set eth0 up
ip -n lan route add default via 10.1.0.1
ip -n srv link set lo up
ip -n srv addr add 10.2.0.2/24 dev eth0
ip -n srv link set eth0 up
ip -n srv route add default via 10.2.0.1
