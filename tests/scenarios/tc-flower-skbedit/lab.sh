# Recorded in Debian's 6.12 under qemu: sudo tests/Kernel/vm/record-in-vm.sh tc-flower-skbedit
# A router with tc clsact filters (flower, matchall, gact, skbedit, vlan: modules the 6.18 recording
# kernel lacks, so this scenario is recorded in Debian's 6.12 under qemu, tests/Kernel/vm). tc
# ingress runs before the netdev and inet hooks: a mark skbedit sets there is what the forward chain
# matches; tc egress runs after POSTROUTING and pushes a VLAN tag the server's eth0.100 takes off.
ip netns add client
ip netns add server
for n in client server; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip netns exec server sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.66/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server link add link eth0 name eth0.100 type vlan id 100
ip -n server link set eth0.100 up
ip -n server route add default via 10.2.0.1
ip -n server neigh add 10.2.0.1 lladdr 02:00:00:00:02:01 dev eth0 nud permanent
ip neigh add 10.2.0.2 lladdr 02:00:00:00:02:02 dev eth1 nud permanent

nft -f - <<'NFT'
table inet f {
    chain forward {
        type filter hook forward priority 0; policy accept;
        meta mark 0x42 counter drop
        counter
    }
}
NFT

tc qdisc add dev eth0 clsact
tc filter add dev eth0 ingress pref 10 protocol ip flower ip_proto tcp dst_port 23 action drop
tc filter add dev eth0 ingress pref 20 protocol ip flower src_ip 10.1.0.66 action skbedit mark 0x42 pipe action ok
tc filter add dev eth0 ingress pref 25 protocol ip flower ip_proto icmp dst_ip 10.2.0.9 action skbedit ptype otherhost
tc filter add dev eth0 ingress pref 30 protocol ip flower ip_proto udp dst_port 7000-7010 action continue
tc filter add dev eth0 ingress pref 40 protocol ip flower ip_proto udp dst_port 7005 action drop
tc filter add dev eth0 ingress pref 50 protocol arp matchall action pass
tc qdisc add dev eth1 clsact
tc filter add dev eth1 egress pref 10 protocol ip flower ip_proto udp dst_port 6000 action vlan push id 100
tc filter add dev eth1 egress pref 20 protocol ip flower ip_proto udp dst_port 6001 action gact shot
