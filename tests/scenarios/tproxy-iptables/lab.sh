# The tproxy-redirect router configured with iptables (iptables-nft, xtables compat matches and
# target): -m socket --transparent sends packets of intercepted connections to a DIVERT chain
# (mark 1, accept); -j TPROXY --on-port 8080 --tproxy-mark 0x1/0x1 takes new ones to the transparent
# listener. Port 81's listener is not transparent: xt_TPROXY drops the packet (NF_DROP, where nft's
# tproxy only does not match). UDP to port 53 goes to the transparent UDP socket on 10.1.0.1:5353
# (--on-ip). The output chain matches the router's packets by owner (-m owner --uid-owner/--gid-owner,
# and negated: a packet without a socket matches `! --uid-owner`).
ip netns add client
ip netns exec client sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
sysctl -w net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip link set lo up
ip addr add 10.1.0.1/24 dev eth0
ip link set eth0 up
ip neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 dev eth0 nud permanent
ip -n client link set lo up
ip -n client addr add 10.1.0.2/24 dev eth0
ip -n client link set eth0 up
ip -n client neigh add 10.1.0.1 lladdr 02:00:00:00:01:01 dev eth0 nud permanent
ip -n client route add default via 10.1.0.1

ip rule add fwmark 1 lookup 100
ip route add local 0.0.0.0/0 dev lo table 100

iptables-restore <<'IPT'
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DIVERT - [0:0]
-A PREROUTING -p tcp -m socket --transparent -j DIVERT
-A PREROUTING -p tcp -m tcp --dport 80 -j TPROXY --on-port 8080 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
-A PREROUTING -p tcp -m tcp --dport 81 -j TPROXY --on-port 8081 --on-ip 0.0.0.0 --tproxy-mark 0x1/0x1
-A PREROUTING -p udp -m udp --dport 53 -j TPROXY --on-port 5353 --on-ip 10.1.0.1 --tproxy-mark 0x1/0xffffffff
-A DIVERT -j MARK --set-xmark 0x1/0xffffffff
-A DIVERT -j ACCEPT
-A OUTPUT -m owner --uid-owner 1000
-A OUTPUT -m owner --gid-owner 1000
-A OUTPUT -m owner ! --uid-owner 1000
COMMIT
IPT
socat TCP-LISTEN:8080,ip-transparent,fork,reuseaddr SYSTEM:'echo intercepted' &
socat TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'echo plain' &
socat -u UDP-RECV:5353,ip-transparent /dev/null &
setpriv --reuid=1000 --regid=1000 --clear-groups socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo as-1000' &
