# One host with a stateful input filter, the classic server firewall: loopback and established
# traffic accepted, invalid packets dropped, new connections only to TCP port 22 and ping, the
# rest dropped by the policy. The host's own connections out are allowed by an accept output.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        ct state invalid counter drop
        tcp dport 22 ct state new accept
        icmp type echo-request accept
    }
    chain output {
        type filter hook output priority filter; policy accept;
    }
}
NFT
socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh' &
ip netns exec client socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo client' &
