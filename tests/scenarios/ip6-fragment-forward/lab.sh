# An IPv6 router between a client link (eth0, MTU 4000), a server link with MTU 1280 (eth1) and one
# with MTU 4000 (eth2), with conntrack in use (a stateful forward chain): fragments are reassembled
# by conntrack (nf_ct_frag6_gather) and the datagram leaves as fragments again (ip6_fragment, never
# larger than the largest fragment it arrived in), or is answered with packet too big.
# Static neighbours and no DAD, so that no neighbour discovery mixes with the fragments.
ip netns add client
ip netns add server
ip netns add big
for ns in client server big; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.icmp.ratelimit=0
done
sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0

ip link add eth0 mtu 4000 address 02:00:00:00:01:01 type veth peer name eth0 mtu 4000 address 02:00:00:00:01:02 netns client
ip link add eth1 mtu 1280 address 02:00:00:00:02:01 type veth peer name eth0 mtu 1280 address 02:00:00:00:02:02 netns server
ip link add eth2 mtu 4000 address 02:00:00:00:03:01 type veth peer name eth0 mtu 4000 address 02:00:00:00:03:02 netns big
ip -6 addr add 2001:db8:1::1/64 dev eth0 nodad
ip -6 addr add 2001:db8:2::1/64 dev eth1 nodad
ip -6 addr add 2001:db8:3::1/64 dev eth2 nodad
ip link set eth0 up
ip link set eth1 up
ip link set eth2 up
ip -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -6 neigh add 2001:db8:2::2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent
ip -6 neigh add 2001:db8:3::2 lladdr 02:00:00:00:03:02 dev eth2 nud permanent

ip -n client link set lo up
ip -n client -6 addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip -n client -6 route add default via 2001:db8:1::1
ip -n client -6 neigh add 2001:db8:1::1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server link set lo up
ip -n server -6 addr add 2001:db8:2::2/64 dev eth0 nodad
ip -n server link set eth0 up
ip -n server -6 route add default via 2001:db8:2::1
ip -n server -6 neigh add 2001:db8:2::1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip -n big link set lo up
ip -n big -6 addr add 2001:db8:3::2/64 dev eth0 nodad
ip -n big link set eth0 up
ip -n big -6 route add default via 2001:db8:3::1
ip -n big -6 neigh add 2001:db8:3::1 lladdr 02:00:00:00:03:01 dev eth0 nud permanent

nft -f - <<'NFT'
table inet filter {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ct state invalid drop
        ct state established,related,new accept
    }
}
NFT
