# The same kind of router as iptables-nft, configured the way many hosts are: one iptables command
# per line (iptables-nft), with -P, -N, -I at a position, -D of a rule, -F of a user chain and the
# nat table, so tables and built-in chains appear on first use and rules get handles in command order.
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

iptables -P INPUT DROP
iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p tcp --dport 23 -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -I INPUT 1 -i lo -j ACCEPT
iptables -D INPUT -p tcp --dport 23 -j ACCEPT
iptables -N WEB
iptables -A WEB -p tcp --dport 8081 -j DROP
iptables -F WEB
iptables -A WEB -p tcp --dport 8080 -j ACCEPT
iptables -A WEB -j REJECT --reject-with icmp-port-unreachable
iptables -P FORWARD DROP
iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A FORWARD -i eth0 -o eth1 -j ACCEPT
iptables -A FORWARD -i eth1 -o eth0 -j WEB
iptables -t nat -A PREROUTING -i eth1 -p tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:8080
iptables -t nat -A POSTROUTING -o eth1 -s 10.1.0.0/24 -j MASQUERADE
iptables -I INPUT 2 -p icmp --icmp-type echo-request -j ACCEPT

ip -n lan link set lo up
ip -n lan addr add 10.1.0.2/24 dev eth0
ip -n lan link set eth0 up
ip -n lan route add default via 10.1.0.1
ip -n wan link set lo up
ip -n wan addr add 198.51.100.7/24 dev eth0
ip -n wan link set eth0 up
ip netns exec lan socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo lan-web' &
ip netns exec wan socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo wan-web' &
socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo router-ssh' &
