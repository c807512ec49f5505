# One host with IPv4 and IPv6 on eth0 and an arp-family filter that drops ARP from 10.1.0.66.
# The client has one static neighbour entry for the host, the rest is resolved on demand.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip -6 addr add 2001:db8:1::1/64 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table arp filter {
    chain input {
        type filter hook input priority filter; policy accept;
        arp saddr ip 10.1.0.66 counter drop
    }
}
NFT
