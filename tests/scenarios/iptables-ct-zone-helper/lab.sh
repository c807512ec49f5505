# One xt_CT template carrying a zone, a helper and a timeout policy together (iptables-nft, table raw):
# a router's FTP control connections from the LAN get zone-orig 5, the ftp helper and a cttimeout
# policy (established 100) from one `-j CT --zone-orig 5 --helper ftp --timeout ftp-pol`; the data
# connection to the port the first 227 announced is given zone-orig 5 too and finds the helper's
# expectation there (related, accepted by -m helper); the one to the second 227's port gets no
# template, looks in zone 0, finds no expectation and is new, dropped by the FORWARD policy. A later
# CT target (--zone 9) changes nothing for a packet that already has its template.
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
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 10.1.0.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1

nfct add timeout ftp-pol inet tcp established 100
iptables-restore <<'IPT'
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 21 -j CT --helper ftp --timeout ftp-pol --zone-orig 5
-A PREROUTING -i eth0 -p tcp -m tcp --dport 21 -j CT --zone 9
-A PREROUTING -i eth0 -p tcp -m tcp --dport 40001 -j CT --zone-orig 5
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT
-A FORWARD -i eth0 -p tcp -m tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT
COMMIT
IPT
# the server's control dialog, one reply per line the client sends (socat unquotes \" and \\)
ip netns exec server socat TCP-LISTEN:21,reuseaddr SYSTEM:'printf \"220 ready\\r\\n\"; read a; printf \"331 ok\\r\\n\"; read a; printf \"227 Entering Passive Mode (10,2,0,2,156,65)\\r\\n\"; read a; printf \"227 Entering Passive Mode (10,2,0,2,156,66)\\r\\n\"; read a; printf \"221 bye\\r\\n\"' &
ip netns exec server socat TCP-LISTEN:40001,reuseaddr SYSTEM:'echo data1' &
ip netns exec server socat TCP-LISTEN:40002,reuseaddr SYSTEM:'echo data2' &
sleep 0.3
