# A router clamping the MSS of forwarded SYNs to its routes (tcp option maxseg size set rt mtu): the link
# to the server has MTU 1400 and the route to 10.3.0.0/24 behind the server an mtu metric of 1300, the
# link back to the client 1500; nft_rt's TCPMSS takes the smaller of the packet's route and the route
# back to its source, less 40 bytes. IPv4 only, static neighbours.
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
ip link set eth1 mtu 1400
ip link set eth0 up
ip link set eth1 up
ip route add 10.3.0.0/24 via 10.2.0.2 mtu 1300
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server addr add 10.3.0.1/32 dev lo
ip -n server link set eth0 mtu 1400
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent

nft -f - <<'NFT'
table inet mangle {
    chain forward {
        type filter hook forward priority mangle; policy accept;
        tcp flags syn tcp option maxseg size set rt mtu
    }
}
NFT
