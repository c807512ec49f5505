# One host, no firewall: what the programs behind its sockets do with them, as ss lists them after
# the traffic. UDP-LISTEN connects to its first sender (another sender then gets port unreachable),
# with fork a child does; UDP-RECVFROM reads one datagram and exits; UDP-RECV stays unconnected; a
# TCP listener without fork closes once it accepted (a later SYN gets a reset); and the client
# reconnects from a port whose connection it closed first (its TIME_WAIT 4-tuple, SO_REUSEADDR). The
# servers close 0.2 s after the client (their ACK of its FIN leaves on its own: the same every run).
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client addr add 10.1.0.3/24 dev eth0
ip -n client link set eth0 up
socat -u UDP-LISTEN:5000 /dev/null &
socat -u UDP-LISTEN:5001,fork /dev/null &
socat -u UDP-RECVFROM:5002 /dev/null &
socat -u UDP-RECV:5003 /dev/null &
socat -u TCP-LISTEN:80 SYSTEM:'cat >/dev/null; sleep 0.2' &
socat -u TCP-LISTEN:81,fork,reuseaddr SYSTEM:'cat >/dev/null; sleep 0.2' &
