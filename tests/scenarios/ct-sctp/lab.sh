# A stateful router that masquerades the client's SCTP towards the server and forwards the host's
# port 3868 to the client's port 3869 (DNAT with a port change: sctp_manip_pkt writes the port and
# computes the CRC32c afresh). nf_conntrack_proto_sctp follows each association by its chunks and
# verification tags. Captured on the server side (eth1): the client's chunks leave masqueraded, the
# server's arrive before NAT, and the server's out-of-state chunks (to the host's own address:
# invalid packets are not NATed) are dropped by the input chain (by sctp vtag, sctp chunk or
# ct state invalid). This kernel has no SCTP sockets (CONFIG_IP_SCTP unset): the endpoints' chunks
# are crafted, and the endpoints' icmp_msgs_per_sec 0 keeps them from answering with ICMP protocol
# unreachable. Crafting a frame takes a second or more here, longer than the 3 s the handshake and
# shutdown states last by default: those timeouts (and CLOSED's, so that the closed association is
# still listed) are raised; ESTABLISHED and HEARTBEAT_SENT keep the kernel's.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 net.ipv4.icmp_msgs_per_sec=0
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
sysctl -w net.netfilter.nf_conntrack_sctp_timeout_cookie_wait=20 net.netfilter.nf_conntrack_sctp_timeout_cookie_echoed=20
sysctl -w net.netfilter.nf_conntrack_sctp_timeout_shutdown_sent=20 net.netfilter.nf_conntrack_sctp_timeout_shutdown_recd=20
sysctl -w net.netfilter.nf_conntrack_sctp_timeout_shutdown_ack_sent=20 net.netfilter.nf_conntrack_sctp_timeout_closed=60

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 203.0.113.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 203.0.113.53/24 dev eth0
ip -n server link set eth0 up

nft -f - <<'NFT'
table ip filter {
    chain input {
        type filter hook input priority filter; policy accept;
        sctp vtag 0xdeadbeef counter drop
        sctp chunk cookie-ack exists counter drop
        ct state invalid drop
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        sctp chunk heartbeat exists ct state new accept
        ct state established,related accept
        iifname "eth0" ct state new accept
        ct status dnat sctp dport 3869 accept
    }
}
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "eth1" sctp dport 3868 dnat to 10.1.0.2:3869
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth1" masquerade
    }
}
NFT
