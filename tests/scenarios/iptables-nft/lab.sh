# A router configured the iptables way (iptables-nft: the rules live in nftables tables that
# iptables manages). Filter: INPUT policy DROP with conntrack, ssh, ping, and a REJECT for ident;
# FORWARD policy DROP with a LAN-to-WAN rule and a port forward; nat: DNAT and MASQUERADE.
# Comments and multiport matches are as people write them.
ip netns add lan
ip netns add wan
for ns in lan wan; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns lan
ip link add eth1 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns wan
ip addr add 10.1.0.1/24 dev eth0
ip addr add 198.51.100.1/24 dev eth1
ip link set eth0 up
ip link set eth1 up

iptables-restore <<'IPT'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80
-A POSTROUTING -o eth1 -s 10.1.0.0/24 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m comment --comment "ssh from anywhere" -j ACCEPT
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 113,114 -j REJECT --reject-with tcp-reset
-A INPUT -j LOGDROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -j ACCEPT
-A FORWARD -i eth1 -o eth0 -p tcp -d 10.1.0.2 --dport 80 -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -j LOGDROP
-A LOGDROP -m limit --limit 5/min -j LOG --log-prefix "dropped: "
-A LOGDROP -j DROP
COMMIT
IPT

ip -n lan link set lo up
ip -n lan addr add 10.1.0.2/24 dev eth0
ip -n lan link set eth0 up
ip -n lan route add default via 10.1.0.1
ip -n wan link set lo up
ip -n wan addr add 198.51.100.7/24 dev eth0
ip -n wan link set eth0 up
ip netns exec lan socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo lan-web' &
ip netns exec wan socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo wan-web' &
socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo router-ssh' &
