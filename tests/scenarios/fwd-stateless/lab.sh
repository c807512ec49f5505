# A router ("host") between a client LAN (eth0, 10.1.0.0/24) and a server LAN (eth1, 10.2.0.0/24)
# with a stateless forward filter: no ct expression, no NAT, so conntrack never runs here. Each
# direction of the allowed traffic is written out: TCP to the server's port 80 and back from it,
# echo requests one way and echo replies the other, everything else dropped by the policy.
ip netns add client
ip netns add server
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec server sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
sysctl -w net.ipv4.ip_forward=1

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1

nft -f - <<'NFT'
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "eth0" oifname "eth1" ip daddr 10.2.0.2 tcp dport 80 accept
        iifname "eth1" oifname "eth0" ip saddr 10.2.0.2 tcp sport 80 accept
        iifname "eth0" icmp type echo-request accept
        iifname "eth1" icmp type echo-reply accept
    }
}
NFT

ip netns exec server socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo hello' &
ip netns exec server socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:'echo hello' &
