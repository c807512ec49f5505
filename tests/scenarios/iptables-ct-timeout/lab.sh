# A host whose iptables raw table gives some connections a cttimeout policy made with nfct
# (`-j CT --timeout NAME`, xt_CT's conntrack template): a new connection takes it from its first
# packet. States a policy does not name take the namespace's sysctls at the time nfct made it
# (nf_conntrack_udp_timeout was 33 then, 40 afterwards); policies for tcp, udp, icmp and the generic
# tracker (OSPF). A 3 s UDP policy lets a flow's entry expire between two datagrams, so the second
# is NEW again and passes an INPUT rule that drops ESTABLISHED packets; without it, it is dropped.
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

sysctl -w net.netfilter.nf_conntrack_udp_timeout=33
nfct add timeout udp-pol inet udp replied 70
nfct add timeout udp-short inet udp unreplied 3 replied 3
nfct add timeout icmp-pol inet icmp timeout 9
nfct add timeout tcp-pol inet tcp syn_sent 55 established 100
nfct add timeout gen-pol inet generic timeout 44
sysctl -w net.netfilter.nf_conntrack_udp_timeout=40
iptables-restore <<'EOF'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 7000 -j CT --timeout udp-pol
-A PREROUTING -p udp -m udp --dport 7003 -j CT --timeout udp-pol
-A PREROUTING -p udp -m udp --dport 7001 -j CT --timeout udp-short
-A PREROUTING -p icmp -j CT --timeout icmp-pol
-A PREROUTING -p tcp -m tcp --dport 22 -j CT --timeout tcp-pol
-A PREROUTING -p tcp -m tcp --dport 23 -j CT --timeout tcp-pol
-A PREROUTING -p ospf -j CT --timeout gen-pol
-A OUTPUT -p tcp -m tcp --sport 23 --tcp-flags RST RST -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --dport 7001 -m conntrack --ctstate ESTABLISHED -j DROP
-A INPUT -p udp -m udp --dport 7002 -m conntrack --ctstate ESTABLISHED -j DROP
COMMIT
EOF
socat UDP-RECVFROM:7000,fork SYSTEM:cat &
socat UDP-RECVFROM:7001,fork SYSTEM:cat &
socat UDP-RECVFROM:7002,fork SYSTEM:cat &
socat TCP-LISTEN:22,reuseaddr SYSTEM:cat &
sleep 0.3
