# The synproxy scenario with iptables-nft, as the kernel documentation's example writes it: SYNs to TCP 80
# (forwarded to the server) and TCP 22 (the host's listener) get -j CT --notrack in raw, the filter
# chains send INVALID and UNTRACKED segments to -j SYNPROXY (nf_conntrack_tcp_loose=0) and drop INVALID.
ip netns add client
ip netns add server
for ns in client server; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.netfilter.nf_conntrack_tcp_loose=0

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns server
ip addr add 192.168.10.1/24 dev eth0
ip addr add 10.2.0.1/24 dev eth1
ip link set lo up
ip link set eth0 up
ip link set eth1 up
ip -n client link set lo up
ip -n client addr add 192.168.10.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add default via 192.168.10.1
ip -n server link set lo up
ip -n server addr add 10.2.0.2/24 dev eth0
ip -n server link set eth0 up
ip -n server route add default via 10.2.0.1

iptables -t raw -A PREROUTING -i eth0 -p tcp -m tcp --syn --dport 22 -j CT --notrack
iptables -t raw -A PREROUTING -i eth0 -p tcp -m tcp --syn --dport 80 -j CT --notrack
iptables -A INPUT -p tcp -m tcp --dport 22 -m state --state INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460
iptables -A INPUT -p tcp -m tcp --dport 22 -m state --state INVALID -j DROP
iptables -A FORWARD -p tcp -m tcp --dport 80 -m state --state INVALID,UNTRACKED -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460
iptables -A FORWARD -m state --state INVALID -j DROP
socat TCP-LISTEN:22,reuseaddr SYSTEM:'read a; echo "ssh $a"' &
ip netns exec server socat TCP-LISTEN:80,reuseaddr SYSTEM:'read a; echo "http $a"' &
sleep 0.3
