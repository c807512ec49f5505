# One container c1 with a macvlan in passthru mode on the host's eth0 (what SR-IOV-less "give the
# NIC to the container" setups do): the macvlan takes eth0's MAC (none given) and eth0 goes
# promiscuous, so every unicast frame eth0 receives is c1's, whatever its destination MAC; the
# host keeps an address on eth0 but gets only broadcasts and multicasts.
ip netns add client
ip netns add c1
for ns in client c1; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client
ip addr add 10.0.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.0.0.100/24 dev eth0
ip -n client link set eth0 up

ip link add link eth0 mv0 netns c1 type macvlan mode passthru
ip -n c1 link set lo up
ip -n c1 addr add 10.0.0.2/24 dev mv0
ip -n c1 link set mv0 up
# c1 keeps state: conntrack sees what reaches it through the macvlan
ip netns exec c1 nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        ct state new counter accept
    }
}
NFT
ip netns exec c1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
