# One host with two direct-action cls_bpf filters on eth0 ingress (tc_bpf_da.c, committed with the
# object clang built from it). The first drops UDP to 7777 and marks TCP to 80 with 0x42, which the
# nft input chain drops; for ICMP it returns TC_ACT_UNSPEC and the second (pref 20) drops what is
# longer than 500 bytes.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

nft -f - <<'NFT'
table inet f {
    chain input {
        type filter hook input priority 0; policy accept;
        meta mark 0x42 counter drop
        counter
    }
}
NFT

tc qdisc add dev eth0 clsact
tc filter add dev eth0 ingress pref 10 bpf da obj tc_bpf_da.o sec tc
tc filter add dev eth0 ingress pref 20 bpf da obj tc_bpf_da.o sec tc_len
