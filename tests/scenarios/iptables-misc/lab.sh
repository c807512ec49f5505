# A router (host) between a client (10.1.0.0/24 on eth0) and a server (10.2.0.0/24 on eth1) whose
# iptables-nft rules use the rarer targets and chain moves: REDIRECT --to-ports into a local socket,
# NOTRACK and CT --notrack in the raw table (untracked packets skip the masquerade), MASQUERADE
# --random and SNAT --random-fully (the kernel picks the port at random: the capture shows which), the
# security table, -g goto (a RETURN from a goto'd chain returns to the caller's caller), CONNMARK
# --save-mark/--restore-mark with -m connmark, and NFQUEUE without a listener (dropped) and with
# --queue-bypass (continues). Every rule counts (iptables-nft adds a counter to each).
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set eth0 up
ip link set eth1 up

iptables-restore <<'IPT'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp --dport 5001 -j NOTRACK
-A PREROUTING -p udp --dport 5002 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j CONNMARK --restore-mark
-A PREROUTING -i eth0 -p udp --dport 5003 -j MARK --set-mark 0x7
-A PREROUTING -j CONNMARK --save-mark
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp --dport 8080 -j REDIRECT --to-ports 9000
-A POSTROUTING -o eth1 -p udp --dport 5004 -j MASQUERADE --random
-A POSTROUTING -o eth1 -p udp --dport 5005 -j SNAT --to-source 10.2.0.1 --random-fully
-A POSTROUTING -o eth1 -s 10.1.0.0/24 -j MASQUERADE
COMMIT
*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp --dport 5006 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:OUTER - [0:0]
:CHK - [0:0]
-A FORWARD -p udp --dport 5007:5008 -j OUTER
-A FORWARD -i eth1 -m connmark --mark 0x7 -m mark --mark 0x7 -j DROP
-A FORWARD -p udp --dport 5009 -j NFQUEUE --queue-num 3
-A FORWARD -p udp --dport 5010 -j NFQUEUE --queue-num 4 --queue-bypass
-A OUTER -g CHK
-A OUTER -j DROP
-A CHK -p udp --dport 5008 -j DROP
-A CHK -j RETURN
COMMIT
IPT

ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1
