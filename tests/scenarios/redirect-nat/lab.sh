# A router on one LAN (eth0, behind a switch in namespace lan) whose routes to 10.2.0.0/24 and
# 10.3.0.0/24 point back into that LAN, at gw (10.1.0.3): what it forwards for the client leaves by
# the device it came in on, so it sends ICMP redirects (send_redirects is on). It masquerades what
# goes to 10.3.0.0/24; that nat chain puts every connection through nf_nat, and
# nf_nat_icmp_reply_translation drops a redirect about a connection whose NAT is not complete yet
# (its first packet, before POSTROUTING) or not a null binding (masqueraded). Static neighbours, no IPv6.
ip netns add lan
ip netns add client
ip netns add gw
for ns in lan client gw; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
ip netns exec lan sysctl -w net.bridge.bridge-nf-call-iptables=0

ip -n lan link add br0 type bridge
ip -n lan link set br0 up
ip link add eth0 address 02:00:00:00:01:01 type veth peer name p0 address 02:00:00:00:00:01 netns lan
ip -n lan link add p1 address 02:00:00:00:00:02 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip -n lan link add p2 address 02:00:00:00:00:03 type veth peer name eth0 address 02:00:00:00:01:03 netns gw
for p in p0 p1 p2; do
    ip -n lan link set $p master br0
    ip -n lan link set $p up
done
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.1.0.3 lladdr 02:00:00:00:01:03 dev eth0 nud permanent
ip route add 10.2.0.0/24 via 10.1.0.3
ip route add 10.3.0.0/24 via 10.1.0.3

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client neigh add 10.1.0.3 lladdr 02:00:00:00:01:03 dev eth0 nud permanent
ip -n client route add default via 10.1.0.1

ip -n gw link set lo up
ip -n gw addr add 10.1.0.3/24 dev eth0
ip -n gw addr add 10.2.0.5/32 dev lo
ip -n gw addr add 10.3.0.5/32 dev lo
ip -n gw link set eth0 up
ip -n gw neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n gw neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

nft -f - <<'NFT'
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip daddr 10.3.0.0/24 masquerade
    }
}
NFT
