# A host whose iptables INPUT chain drops packets by what their connection has carried so far
# (-m connbytes, which iptables-nft keeps as an xtables match and nft lists as `ct ... packets|bytes|avgpkt`):
# a UDP flow from its 4th datagram on (original packets), one once its average packet (both ways)
# reaches 200 bytes, one once the host answered it more than twice (reply packets, negated range),
# pings once their requests have carried 1500 bytes. Loading the match turns accounting on
# (nf_conntrack_acct stays 0 here): conntrack -L lists packets= and bytes=.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up

iptables-restore <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --dport 7100 -m connbytes --connbytes 4 --connbytes-mode packets --connbytes-dir original -j DROP
-A INPUT -p udp -m udp --dport 7101 -m connbytes --connbytes 200 --connbytes-mode avgpkt --connbytes-dir both -j DROP
-A INPUT -p udp -m udp --dport 7102 -m connbytes ! --connbytes 0:2 --connbytes-mode packets --connbytes-dir reply -j DROP
-A INPUT -p icmp -m connbytes --connbytes 1500 --connbytes-mode bytes --connbytes-dir original -j DROP
COMMIT
EOF
socat UDP-RECVFROM:7100,fork SYSTEM:cat &
socat UDP-RECVFROM:7101,fork SYSTEM:cat &
socat UDP-RECVFROM:7102,fork SYSTEM:cat &
sleep 0.3
