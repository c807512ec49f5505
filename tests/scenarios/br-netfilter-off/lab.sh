# Containers c1, c2 on the bridge docker0 of the host, br_netfilter switched off
# (net.bridge.bridge-nf-call-iptables=0): frames bridged between the containers do not pass the
# inet hooks, so the ip filter forward chain (the same as in docker-bridge-c2c) never sees them.
# (The chain would allow container-to-container TCP only to port 80, and ping.)
ip netns add c1
ip netns add c2
for ns in c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
modprobe br_netfilter
sysctl -w net.bridge.bridge-nf-call-iptables=0

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

nft -f - <<'NFT'
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "docker0" oifname "docker0" icmp type echo-request accept
        iifname "docker0" oifname "docker0" tcp dport 80 accept
    }
    chain input {
        type filter hook input priority filter; policy accept;
        iifname "docker0" tcp dport 22 drop
    }
}
NFT
ip netns exec c1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
ip netns exec c1 socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:'echo c1' &
