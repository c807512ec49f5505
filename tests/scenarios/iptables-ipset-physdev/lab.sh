# The host is a bridge (br0, 10.0.0.254/24) with three ports (h1, h2, h3 behind them) and
# br_netfilter on (bridge-nf-call-iptables=1): bridged IPv4 also runs the inet FORWARD chain, where
# iptables filters with Calico-style ipsets and -m physdev (the bridge port br_netfilter saw).
# cali-allow (hash:net) holds 10.0.0.0/24 but 10.0.0.0/30 is nomatch and 10.0.0.2 a match again
# (most specific wins): h2 and h3 are allowed, h1 is not; cali-svc (hash:ip,port) names the
# services h2 tcp:80 and h3 udp:53.
ip netns add h1
ip netns add h2
ip netns add h3
for ns in h1 h2 h3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.bridge.bridge-nf-call-iptables=1
ip link add br0 address 02:00:00:00:00:fe type bridge
ip addr add 10.0.0.254/24 dev br0
ip link set br0 up
ip link add port1 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns h1
ip link add port2 address 02:00:00:00:02:01 type veth peer name eth0 address 02:00:00:00:02:02 netns h2
ip link add port3 address 02:00:00:00:03:01 type veth peer name eth0 address 02:00:00:00:03:02 netns h3
ip -n h1 addr add 10.0.0.1/24 dev eth0
ip -n h2 addr add 10.0.0.2/24 dev eth0
ip -n h3 addr add 10.0.0.9/24 dev eth0
for n in 1 2 3; do
    ip link set port$n master br0
    ip link set port$n up
    ip -n h$n link set lo up
    ip -n h$n link set eth0 up
done

ipset restore <<'EOF'
create cali-allow hash:net family inet hashsize 1024 maxelem 65536
add cali-allow 10.0.0.0/24
add cali-allow 10.0.0.0/30 nomatch
add cali-allow 10.0.0.2
EOF
ipset create cali-svc hash:ip,port family inet counters comment
ipset add cali-svc 10.0.0.2,tcp:80 comment "h2 web"
ipset add cali-svc 10.0.0.9,udp:53
ipset add cali-svc 10.0.0.9,tcp:53

iptables-restore <<'EOF'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m physdev --physdev-in port2 -m tcp --dport 22 -j DROP
-A INPUT -p icmp -m physdev ! --physdev-is-bridged --physdev-is-in -j ACCEPT
-A FORWARD -m physdev --physdev-is-bridged -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m physdev --physdev-in port1 --physdev-out port3 -j DROP
-A FORWARD -m physdev --physdev-in port+ ! --physdev-out port1 -m set --match-set cali-svc dst,dst -j ACCEPT
-A FORWARD -p icmp -m set --match-set cali-allow src -j ACCEPT
-A FORWARD -p udp -m set --match-set cali-allow src --return-nomatch -j DROP
-A FORWARD -p udp -m set ! --match-set cali-allow src -j DROP
-A FORWARD -p udp -j ACCEPT
-A FORWARD -m physdev --physdev-is-bridged -j DROP
COMMIT
EOF
ip netns exec h2 socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo h2' &
ip netns exec h2 socat TCP-LISTEN:81,fork,reuseaddr SYSTEM:'echo h2' &
ip netns exec h3 socat UDP-RECVFROM:53,fork SYSTEM:'echo h3' &
