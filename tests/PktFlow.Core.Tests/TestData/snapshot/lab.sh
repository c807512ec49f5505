# The host behind the committed snapshot in lab/: a router namespace and a client, built for real by
# make.sh and read back by the collector. The lab loader reads this same file; SnapshotLoaderTests
# checks that both give the same devices, addresses and routes.
#
# pfsnap-r: veth eth0 (to the client), bridge br0 with veth port p1 (to the client's eth1), macvlan
#           mv0 on eth0, vxlan vx0, a veth pair spare0/spare1 left down (its address makes no
#           routes), forwarding on (IPv6 anycast routes), routes in main, 100 and 200 (IPv4, IPv6,
#           via, dev, src, proto, metric, blackhole/unreachable/prohibit), ip rules and a permanent
#           neighbour (both evaluated), and configuration the model does not evaluate yet: a static
#           FDB entry, an nftables table and an iptables-nft rule.
# pfsnap-c: eth0 and eth1, default routes back to the router.

ip netns add pfsnap-r
ip netns add pfsnap-c
ip -n pfsnap-r link set lo up
ip -n pfsnap-c link set lo up

ip -n pfsnap-r link add eth0 address 02:00:5e:10:00:01 type veth peer name eth0 netns pfsnap-c address 02:00:5e:10:00:02
ip -n pfsnap-r link add p1 address 02:00:5e:10:01:01 type veth peer name eth1 netns pfsnap-c address 02:00:5e:10:01:02
ip -n pfsnap-r link add br0 address 02:00:5e:10:0b:01 type bridge
ip -n pfsnap-r link set p1 master br0
ip -n pfsnap-r link add link eth0 name mv0 address 02:00:5e:10:0c:01 type macvlan mode bridge
ip -n pfsnap-r link add vx0 address 02:00:5e:10:0d:01 mtu 1450 type vxlan id 42 dstport 4789 local 10.0.1.1
ip -n pfsnap-r link add spare0 address 02:00:5e:10:0e:01 type veth peer name spare1 address 02:00:5e:10:0e:02
ip -n pfsnap-r link set eth0 mtu 1400

ip netns exec pfsnap-r sysctl -w net.ipv4.ip_forward=1
ip netns exec pfsnap-r sysctl -w net.ipv6.conf.all.forwarding=1
ip netns exec pfsnap-r sysctl -w net.ipv4.conf.eth0.rp_filter=1

for d in eth0 p1 br0 mv0 vx0; do ip -n pfsnap-r link set $d up; done
ip -n pfsnap-c link set eth0 up
ip -n pfsnap-c link set eth1 up

ip -n pfsnap-r addr add 10.0.1.1/24 dev eth0
ip -n pfsnap-r -6 addr add 2001:db8:1::1/64 dev eth0
ip -n pfsnap-r addr add 10.0.2.1/24 brd + dev br0
ip -n pfsnap-r -6 addr add 2001:db8:2::1/64 dev br0
ip -n pfsnap-r addr add 10.0.3.1/24 dev mv0
ip -n pfsnap-r addr add 10.0.4.1/30 dev vx0
ip -n pfsnap-r addr add 192.0.2.1/32 dev lo
ip -n pfsnap-r addr add 10.0.9.1/24 dev spare0
ip -n pfsnap-c addr add 10.0.1.2/24 dev eth0
ip -n pfsnap-c -6 addr add 2001:db8:1::2/64 dev eth0
ip -n pfsnap-c addr add 10.0.2.2/24 dev eth1
ip -n pfsnap-c -6 addr add 2001:db8:2::2/64 dev eth1

ip -n pfsnap-r route add 10.20.0.0/16 via 10.0.1.2
ip -n pfsnap-r route add default via 10.0.2.2 metric 100
ip -n pfsnap-r route add 10.30.0.0/16 dev br0 table 100
ip -n pfsnap-r route add default via 10.0.1.2 table 100
ip -n pfsnap-r route add blackhole 10.99.0.0/16 table 100
ip -n pfsnap-r route add unreachable 10.98.0.0/16 table 200
ip -n pfsnap-r route add prohibit 10.97.0.0/16 table 200
ip -n pfsnap-r route add 10.96.0.0/16 via 10.0.2.2 src 10.0.2.1 proto static table 200
ip -n pfsnap-r -6 route add 2001:db8:20::/48 via 2001:db8:1::2
ip -n pfsnap-r -6 route add default via 2001:db8:2::2 table 100
ip -n pfsnap-r -6 route add prohibit 2001:db8:99::/48 table 200
ip -n pfsnap-c route add default via 10.0.1.1
ip -n pfsnap-c -6 route add default via 2001:db8:1::1

ip -n pfsnap-r rule add from 10.0.2.0/24 lookup 100 priority 100
ip -n pfsnap-r rule add fwmark 0x2 lookup 200 priority 200
ip -n pfsnap-r neigh add 10.0.1.9 lladdr 02:00:5e:10:00:09 dev eth0 nud permanent
ip netns exec pfsnap-r bridge fdb add 02:00:5e:10:00:77 dev p1 master static
ip netns exec pfsnap-r nft -f - <<'NFT'
table inet pf {
    chain transit {
        type filter hook forward priority 0; policy accept;
        ip saddr 10.0.9.0/24 drop
    }
}
NFT
ip netns exec pfsnap-r iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
