# One host with cls_bpf filters in classid mode (no direct-action) on eth0 ingress, followed by a
# direct-action one (tc_bpf_classid.c, committed with the object clang built from it; the 6.18
# recording kernel has cls_bpf, u32 and act_mirred, no gact or act_bpf):
# pref 10 matches UDP to 7777 (the program returns classid 1:10) and its action mirrors it to the
# monitor on eth1 and drops it; pref 20 matches TCP to 80 (-1: the filter's classid 1:1) and, having
# no actions, ends the classification with TC_ACT_OK; pref 25 matches UDP to 7779 the same way and
# gives TCP to 23 mark 0x42 without matching it (the nft input chain drops it); pref 30 (direct
# action) drops what reaches it but a short ping and TCP to 23.
ip netns add client
ip netns add mon
for n in client mon; do ip netns exec $n sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns mon
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n mon link set lo up
ip -n mon link set eth0 up
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
tc filter add dev eth0 ingress pref 10 bpf obj tc_bpf_classid.o sec cls action mirred egress mirror dev eth1 drop
tc filter add dev eth0 ingress pref 20 bpf obj tc_bpf_classid.o sec cls_dflt classid 1:1
tc filter add dev eth0 ingress pref 25 bpf obj tc_bpf_classid.o sec cls_ok classid 1:2
tc filter add dev eth0 ingress pref 30 bpf da obj tc_bpf_classid.o sec da_drop
