# conntrack labels compared as nft compiles them, on a host's input chain: a new UDP flow is labelled
# by port (ct label set N | M, and from a map keyed by the port), then its packets are judged by a
# verdict map of labels, a set of labels and ==/!= against all 128 bits (cmp eq/neq, lookups), next to
# the bare form (ct label N: any of these bits). connlabel.conf (beside this file) names the bits for
# conntrack -L.
ip netns add c
ip netns exec c sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up

nft -f - <<'NFT'
table inet labels {
    chain input {
        type filter hook input priority filter; policy accept;
        ct state new udp dport 81 ct label set 1
        ct state new udp dport 82 ct label set 1 | 5
        ct state new udp dport 83 ct label set 5
        ct state new udp dport { 84, 85, 86 } ct label set udp dport map { 84 : 7, 85 : 1 | 7, 86 : 5 | 7 }
        udp dport 80-89 ct label vmap { 1 : drop, 1 | 5 : jump both, 7 : accept }
        udp dport 80-89 ct label 7 ct label != 5 | 7 counter drop
        udp dport 80-89 ct label { 5 | 7, 2 } counter accept
        udp dport 80-89 ct label == 5 counter accept
        udp dport 80-89 counter drop
    }
    chain both {
        ct label != 5 counter drop
        accept
    }
}
NFT

ip -n c link set lo up
ip -n c addr add 10.1.0.2/24 dev eth0
ip -n c link set eth0 up
# listeners for the flows the chain accepts (the dropped ones never reach a socket)
for p in 83 84 86; do
    socat -u UDP-RECV:$p /dev/null &
done
sleep 0.3
