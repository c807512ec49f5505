# One host, no firewall at all: what the local protocols do with what reaches them.
# TCP listener on 80, UDP receiver on 5353; nothing listens on TCP 81 or UDP 5354.
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
socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo web' &
socat -u UDP-RECV:5353 /dev/null &
