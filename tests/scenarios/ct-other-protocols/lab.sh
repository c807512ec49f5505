# A stateful masquerading router and the protocols conntrack tracks without ports: GRE (its own
# tracker: keys, 30 s until answered, then 180 s and assured), PPTP's enhanced GRE (keyed by the call
# id; without PPP inside it gets no tuple and is invalid) and ESP (the generic tracker, 600 s).
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_ratelimit=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 203.0.113.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 203.0.113.53/24 dev eth0
ip -n server link set eth0 up

nft -f - <<'NFT'
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "eth0" ct state new accept
    }
}
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" masquerade
    }
}
NFT
