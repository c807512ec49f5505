# A listener's request sockets (SYN_RECV) and the ICMP errors that quote their SYN-ACKs (tcp_req_err):
# the clients 10.1.0.8 and 10.1.0.9 are addresses nobody on the client side holds (static neighbour
# entries send their SYN-ACKs to the client's MAC, where a packet socket reads them), so nothing
# answers the SYN-ACKs and the requests stay until an error drops them.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip neigh add 10.1.0.8 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.1.0.9 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
socat -u TCP-LISTEN:80,fork,reuseaddr /dev/null &
