# A Docker-style host: containers c1 and c2 on the bridge docker0 (172.17.0.0/16) behind veth pairs,
# port 8080 of the host published to c1:80 (DNAT in prerouting, for traffic from outside), and the
# containers' own traffic masqueraded when it leaves through eth0. The client is on eth0's LAN.
# br_netfilter is built in here, so bridge-nf-call-iptables is 1 in every namespace (the default):
# frames bridged between containers also pass the inet hooks.
ip netns add client
ip netns add c1
ip netns add c2
for ns in client c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
modprobe br_netfilter

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 192.168.1.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 192.168.1.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add 172.17.0.0/16 via 192.168.1.1

ip link add docker0 address 02:42:ac:11:00:01 type bridge
ip addr add 172.17.0.1/16 dev docker0
ip link set docker0 up
ip link add veth1 address 02:00:00:00:11:01 type veth peer name eth0 address 02:42:ac:11:00:02 netns c1
ip link add veth2 address 02:00:00:00:12:01 type veth peer name eth0 address 02:42:ac:11:00:03 netns c2
ip link set veth1 master docker0
ip link set veth2 master docker0
ip link set veth1 up
ip link set veth2 up
ip -n c1 link set lo up
ip -n c1 addr add 172.17.0.2/16 dev eth0
ip -n c1 link set eth0 up
ip -n c1 route add default via 172.17.0.1
ip -n c2 link set lo up
ip -n c2 addr add 172.17.0.3/16 dev eth0
ip -n c2 link set eth0 up
ip -n c2 route add default via 172.17.0.1

sysctl -w net.ipv4.ip_forward=1
sysctl -w net.bridge.bridge-nf-call-iptables=1

nft -f - <<'NFT'
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        fib daddr type local tcp dport 8080 dnat to 172.17.0.2:80
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 172.17.0.0/16 oifname != "docker0" masquerade
    }
}
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "docker0" oifname != "docker0" accept
        iifname "docker0" oifname "docker0" accept
        oifname "docker0" ct status dnat ip daddr 172.17.0.2 tcp dport 80 accept
    }
}
NFT

ip netns exec c1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
ip netns exec client socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo client' &
