# An edge router: LAN 10.1.0.0/24 on eth0, the outside on eth1 (198.51.100.1/24). NAT both ways:
#   - SNAT: LAN traffic leaving eth1 gets the source 198.51.100.1
#   - DNAT: TCP to 198.51.100.1:2222 from outside goes to the LAN server 10.1.0.2:22
# Replies are translated back by conntrack (no rule sees them in the nat chains).
ip netns add lan
ip netns add wan
for ns in lan wan; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns lan
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns wan
ip addr add 10.1.0.1/24 dev eth0
ip addr add 198.51.100.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

nft -f - <<'NFT'
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth1" tcp dport 2222 dnat to 10.1.0.2:22
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" ip saddr 10.1.0.0/24 snat to 198.51.100.1
    }
}
NFT

ip -n lan link set lo up
ip -n lan addr add 10.1.0.2/24 dev eth0
ip -n lan link set eth0 up
ip -n lan route add default via 10.1.0.1
ip -n wan link set lo up
ip -n wan addr add 198.51.100.7/24 dev eth0
ip -n wan link set eth0 up
ip netns exec lan socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo lan-ssh' &
ip netns exec wan socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo wan-web' &
