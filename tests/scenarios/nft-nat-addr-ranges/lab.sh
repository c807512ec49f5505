# A router translating to address ranges (find_best_ips_proto picks the address from a jhash of the
# connection's addresses): LAN 10.1.0.0/24 on eth0 with eight client addresses, a server net 10.2.0.0/24
# on eth1 with eight server addresses. DNAT to a constant range, to a range from a map's interval data
# (with the port), to a range with persistent; SNAT to a range from a map's interval data and with
# persistent, and snat ip prefix to a /24 (netmap: the host bits kept). The server routes everything back
# through the router, which translates the replies by conntrack.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

nft -f - <<'NFT'
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth0" tcp dport 3000 dnat to 10.2.0.2-10.2.0.9:8080
        iifname "eth0" tcp dport 3001 dnat ip to ip saddr map { 10.1.0.0/24 : 10.2.0.2-10.2.0.9 . 8080 }
        iifname "eth0" tcp dport 3002 dnat to 10.2.0.2-10.2.0.9:8080 persistent
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" tcp dport 8081 snat ip to ip saddr map { 10.1.0.0/24 : 198.51.100.1-198.51.100.40 }
        oifname "eth1" tcp dport 8082 snat to 198.51.100.50-198.51.100.90 persistent
        oifname "eth1" tcp dport 8083 snat ip prefix to ip saddr map { 10.1.0.0/24 : 203.0.113.0/24 }
    }
}
NFT

ip -n client link set lo up
for i in 2 3 4 5 6 7 8 9; do ip -n client addr add 10.1.0.$i/24 dev eth0; done
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
for i in 2 3 4 5 6 7 8 9; do ip -n server addr add 10.2.0.$i/24 dev eth0; done
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip netns exec server socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo s8080' &
ip netns exec server socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo s8081' &
ip netns exec server socat TCP-LISTEN:8082,fork,reuseaddr SYSTEM:'echo s8082' &
ip netns exec server socat TCP-LISTEN:8083,fork,reuseaddr SYSTEM:'echo s8083' &
