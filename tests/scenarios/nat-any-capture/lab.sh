# Two LAN hosts behind one masquerading router, both using the same source port to the same
# server: conntrack must give the second one another source port. Also ping from both (the ICMP
# echo identifier is translated like a port when it collides).
ip netns add a
ip netns add b
ip netns add srv
for ns in a b srv; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add lan address 02:00:00:00:01:01 type bridge
ip addr add 10.1.0.1/24 dev lan
ip link set lan up
ip link add eth-a address 02:00:00:00:0a:01 type veth peer name eth0 address 02:00:00:00:0a:02 netns a
ip link add eth-b address 02:00:00:00:0b:01 type veth peer name eth0 address 02:00:00:00:0b:02 netns b
ip link set eth-a master lan
ip link set eth-b master lan
ip link set eth-a up
ip link set eth-b up
ip link add wan0 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns srv
ip addr add 203.0.113.1/24 dev wan0
ip link set wan0 up
sysctl -w net.bridge.bridge-nf-call-iptables=0

nft -f - <<'NFT'
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan0" masquerade
    }
}
NFT

ip -n a link set lo up
ip -n a addr add 10.1.0.10/24 dev eth0
ip -n a link set eth0 up
ip -n a route add default via 10.1.0.1
ip -n b link set lo up
ip -n b addr add 10.1.0.11/24 dev eth0
ip -n b link set eth0 up
ip -n b route add default via 10.1.0.1
ip -n srv link set lo up
ip -n srv addr add 203.0.113.53/24 dev eth0
ip -n srv link set eth0 up
ip netns exec srv socat -u UDP-RECV:53 /dev/null &
