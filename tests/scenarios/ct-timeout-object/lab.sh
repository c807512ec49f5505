# A host whose nft ct timeout objects give some connections their own per-state timeouts instead of
# the sysctls: `ct timeout set` in an input chain (after conntrack, before confirmation) attaches the
# policy to a new connection; in a raw prerouting chain (before conntrack), for a packet of another
# protocol than the policy's, or on a confirmed connection it does nothing. States a policy does not
# name keep the kernel's defaults, not the sysctls (nf_conntrack_udp_timeout is 33 here).
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.netfilter.nf_conntrack_udp_timeout=33
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet filter {
    ct timeout tcp-short {
        protocol tcp
        l3proto ip
        policy = { syn_sent: 55, established: 100, close: 7 }
    }
    ct timeout udp-custom {
        protocol udp
        policy = { replied: 70 }
    }
    chain raw-pre {
        type filter hook prerouting priority raw; policy accept;
        udp dport 7001 ct timeout set "udp-custom"
    }
    chain raw-out {
        type filter hook output priority raw; policy accept;
        tcp sport 23 tcp flags & rst == rst drop
    }
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport { 22, 23 } ct timeout set "tcp-short"
        udp dport 7000 ct timeout set "udp-custom"
        udp dport 7002 ct timeout set "tcp-short"
        udp dport 7003 ct state established ct timeout set "udp-custom"
    }
}
NFT
