# Three containers c1, c2, c3 with macvlans in bridge mode on the host's eth0, IPv6 only, a client
# on the wire. Each macvlan is made in its container in one command (`ip link add link eth0 ...
# netns cN`: the lower device is looked up where the command runs). Neighbour discovery sends to
# solicited-node groups (33:33:ff:xx:xx:xx), and macvlan_broadcast gives a multicast frame only to
# the macvlans whose mc_filter has the group: the one container that joined it, never the others.
ip netns add client
ip netns add c1
ip netns add c2
ip netns add c3
for ns in client c1 c2 c3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
done
sysctl -w net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0

ip link add eth0 address 02:00:00:00:00:01 type veth peer name eth0 address 02:00:00:00:00:64 netns client
ip -6 addr add 2001:db8::1/64 dev eth0 nodad
ip link set eth0 up
ip -n client link set lo up
ip -n client -6 addr add 2001:db8::100/64 dev eth0 nodad
ip -n client link set eth0 up

ip link add link eth0 mv1 netns c1 address 02:42:0a:00:00:02 type macvlan mode bridge
ip link add link eth0 mv2 netns c2 address 02:42:0a:00:00:03 type macvlan mode bridge
ip link add link eth0 mv3 netns c3 address 02:42:0a:00:00:04 type macvlan mode bridge
ip -n c1 link set lo up
ip -n c1 -6 addr add 2001:db8::2/64 dev mv1 nodad
ip -n c1 link set mv1 up
ip -n c2 link set lo up
ip -n c2 -6 addr add 2001:db8::3/64 dev mv2 nodad
ip -n c2 link set mv2 up
ip -n c3 link set lo up
ip -n c3 -6 addr add 2001:db8::4/64 dev mv3 nodad
ip -n c3 link set mv3 up

ip netns exec c1 nft -f - <<'NFT'
table inet filter {
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        tcp dport 81 drop
    }
}
NFT
ip netns exec c1 socat TCP6-LISTEN:80,fork,reuseaddr SYSTEM:'echo c1' &
