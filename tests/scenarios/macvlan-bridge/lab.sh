# Two containers c1, c2 with macvlan devices in bridge mode on the host's eth0 (what a Docker macvlan
# network or Multus makes), a client on the wire behind eth0. The host's own address is on eth0: the
# lower device cannot reach its macvlans (its frames leave by eth0 and never meet macvlan_handle_frame,
# theirs leave by eth0 too and never reach its stack). c1 keeps state: port 81 dropped in its input.
ip netns add client
ip netns add c1
ip netns add c2
for ns in client c1 c2; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client
ip addr add 10.0.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.0.0.100/24 dev eth0
ip -n client link set eth0 up

ip link add mv1 link eth0 address 02:42:0a:00:00:02 type macvlan mode bridge
ip link add mv2 link eth0 address 02:42:0a:00:00:03 type macvlan mode bridge
ip link set mv1 netns c1
ip link set mv2 netns c2
ip -n c1 link set lo up
ip -n c1 addr add 10.0.0.2/24 dev mv1
ip -n c1 link set mv1 up
ip -n c2 link set lo up
ip -n c2 addr add 10.0.0.3/24 dev mv2
ip -n c2 link set mv2 up

ip netns exec c1 nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        tcp dport 81 drop
    }
}
NFT
ip netns exec c1 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
ip netns exec c1 socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:'echo c1' &
ip netns exec c2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo c2' &
ip netns exec client socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo client' &
