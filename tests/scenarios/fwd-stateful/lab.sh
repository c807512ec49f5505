# A router ("host", the namespace of the lab's own commands) between a client LAN (eth0,
# 10.1.0.0/24) and a server LAN (eth1, 10.2.0.0/24), with a stateful forward filter:
# established/related accepted, invalid dropped, new connections only from the client to the
# server's TCP port 80 and ping, everything else dropped by the chain's policy.
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
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        ct state invalid drop
        iifname "eth0" oifname "eth1" tcp dport 80 accept
        iifname "eth0" oifname "eth1" icmp type echo-request accept
    }
}
NFT

ip netns exec server socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo hello' &
