# One host with several tables hooked at input: which base chains run, in which order, and what
# the trace shows for jumps, gotos, returns, vmaps and non-terminal rules.
#   inet raw_like   prerouting priority -300  counter (no verdict: continue), notrack for UDP 5000
#   ip   mangle     prerouting priority -150  meta mark set 0x1 for TCP
#   inet filter     input      priority 0     jump to a chain that may fall off its end, goto,
#                                             a verdict map, explicit return
#   ip   filter     input      priority 0     (same priority as inet filter: the kernel orders them)
#   inet late       input      priority 10    log + accept
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

nft -f - <<'NFT'
table inet raw_like {
    chain prerouting {
        type filter hook prerouting priority raw; policy accept;
        counter
        udp dport 5000 notrack
    }
}
table ip mangle {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        ip protocol tcp meta mark set 0x1
    }
}
table inet filter {
    chain tcp_ports {
        tcp dport 22 accept
        tcp dport 23 drop
    }
    chain udp_ports {
        udp dport 5001 return
        udp dport 5002 accept
    }
    chain input {
        type filter hook input priority filter; policy accept;
        ct state established,related accept
        meta l4proto tcp jump tcp_ports
        meta l4proto udp goto udp_ports
        icmp type vmap { echo-request : accept, timestamp-request : drop }
    }
}
table ip filter {
    chain input {
        type filter hook input priority filter; policy accept;
        tcp dport 24 drop
    }
}
table inet late {
    chain input {
        type filter hook input priority 10; policy accept;
        meta mark 0x1 log prefix "marked " accept
    }
}
NFT
socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh' &
