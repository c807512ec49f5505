# The host side of a load balancer's encapsulation with the real receive devices (recorded in the
# Debian 6.12 VM of tests/Kernel/vm/, which has the ipip and fou modules): a collect-metadata ipip
# device takes IP-in-IP, FOU port 5555 (ipproto 4) and GUE port 6080 decapsulate UDP into it; the
# VIP is on lo with a listener. Replies to the inner client go back by the default route (DSR), where
# the client, which is no router, drops them. Loading ipip gives every namespace its tunl0.
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 10.1.0.1/24 dev eth0
ip addr add 10.100.0.10/32 dev lo
ip link set eth0 up
ip link add ipip0 type ipip external
ip link set ipip0 up
ip fou add port 5555 ipproto 4
ip fou add port 6080 gue
ip route add default via 10.1.0.2
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client route add 10.100.0.10/32 via 10.1.0.1
socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo vip' &
