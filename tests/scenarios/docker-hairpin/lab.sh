# A Docker-style host where a container reaches another container through the host's published
# port (hairpin): c2 connects to 192.168.1.1:8080 and DNAT sends it to c1:80 on the same bridge.
# The postrouting rule meant to masquerade docker0->docker0 traffic tests iifname, which is never
# set in postrouting: what the kernel does instead is in kernel.json (br_netfilter is on).
ip netns add c1
ip netns add c2
ip netns add client
for ns in c1 c2 client; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
modprobe br_netfilter
sysctl -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 192.168.1.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 192.168.1.2/24 dev eth0
ip -n client link set eth0 up

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

nft -f - <<'NFT'
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        fib daddr type local tcp dport 8080 dnat to 172.17.0.2:80
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 172.17.0.0/16 oifname != "docker0" masquerade
        iifname "docker0" oifname "docker0" ct status dnat masquerade
    }
}
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        oifname "docker0" ct status dnat accept
        iifname "docker0" accept
    }
}
NFT
ip netns exec c1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
