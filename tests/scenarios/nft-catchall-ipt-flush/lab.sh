# nft on iptables-nft's tables, then the py tests' newer forms at work:
# 1. iptables drops ICMP at INPUT; ip6tables drops echo requests and, in its chain V6, TCP port 81
# 2. nft flush ruleset ip: the kernel deletes iptables-nft's table ip filter (IPv4 echo answered);
#    table ip6 filter stays; nft flush chain ip6 filter V6 empties V6 alone (port 81 answered with a
#    RST, IPv6 echo still dropped)
# 3. table ip cat: a verdict map with a catch-all element (* : jump other) used only when no element
#    holds the port; in other a mark map with a catch-all (85 -> 1, * -> 2) and a drop of mark 2;
#    a raw TCP option match (MSS 1400 read as tcp option @2,16,16) accepted before the map;
#    at output reset tcp option sack-perm on SYN-ACKs (the options become NOPs on the wire)
ip netns add client
sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
ip netns exec client sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.router_solicitations=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip addr add 2001:db8:1::1/64 dev eth0 nodad
ip link set eth0 up
ip link set lo up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n client link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent

iptables -A INPUT -p icmp -j DROP
ip6tables -A INPUT -p ipv6-icmp --icmpv6-type echo-request -j DROP
ip6tables -N V6
ip6tables -A INPUT -j V6
ip6tables -A V6 -p tcp --dport 81 -j DROP
nft flush ruleset ip
nft flush chain ip6 filter V6
nft -f - <<'NFT'
table ip cat {
    chain in {
        type filter hook input priority 0; policy accept;
        tcp dport 86 tcp option @2,16,16 1400 accept
        tcp dport vmap { 80 : accept, 83 : drop, * : jump other }
    }
    chain other {
        meta mark set tcp dport map { 85 : 0x00000001, * : 0x00000002 }
        meta mark 0x00000002 counter drop
    }
    chain out {
        type filter hook output priority 0; policy accept;
        tcp flags & (syn | ack) == syn | ack reset tcp option sack-perm
    }
}
NFT
socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:'echo hi' &
