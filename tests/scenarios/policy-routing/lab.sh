# A router with a LAN (eth0, 10.1.0.0/24) and two uplinks: isp1 on eth1 (default route of the
# main table) and isp2 on eth2. Policy routing:
#   - ip rule from 10.1.0.128/25 lookup 100     (the upper half of the LAN leaves through isp2)
#   - ip rule fwmark 0x2 lookup 200             (traffic marked by nftables: TCP to port 443)
#   - ip rule to 198.51.100.0/24 lookup 300     (table 300: a blackhole for that prefix)
# The same destination (203.0.113.10, present on both uplinks' far side) is reached differently.
ip netns add client
ip netns add isp1
ip netns add isp2
for ns in client isp1 isp2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns isp1
ip link add eth2 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns isp2
ip addr add 10.1.0.1/24 dev eth0
ip addr add 192.0.2.1/30 dev eth1
ip addr add 192.0.2.5/30 dev eth2
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip route add default via 192.0.2.2
ip route add default via 192.0.2.6 table 100
ip route add default via 192.0.2.6 table 200
ip route add blackhole 198.51.100.0/24 table 300
ip rule add from 10.1.0.128/25 lookup 100 priority 1000
ip rule add fwmark 0x2 lookup 200 priority 1100
ip rule add to 198.51.100.0/24 lookup 300 priority 1200

nft -f - <<'NFT'
table ip mangle {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        iifname "eth0" tcp dport 443 meta mark set 0x2
    }
}
NFT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.200/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
for n in 1 2; do
    ip -n isp$n link set lo up
    ip -n isp$n link set eth0 up
    ip -n isp$n addr add 203.0.113.10/24 dev lo
done
ip -n isp1 addr add 192.0.2.2/30 dev eth0
ip -n isp1 route add default via 192.0.2.1
ip -n isp2 addr add 192.0.2.6/30 dev eth0
ip -n isp2 route add default via 192.0.2.5
ip netns exec isp1 socat TCP-LISTEN:443,fork,reuseaddr SYSTEM:'echo isp1' &
ip netns exec isp2 socat TCP-LISTEN:443,fork,reuseaddr SYSTEM:'echo isp2' &
