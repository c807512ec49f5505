# A Kubernetes node as kube-proxy --proxy-mode nftables programs it (the structure of pkg/proxy/nftables:
# table ip kube-proxy, maps service-ips / service-nodeports / no-endpoint-services / no-endpoint-nodeports,
# sets cluster-ips / nodeport-ips, chains services, service-*, endpoint-*, mark-for-masquerade, masquerading,
# written as the `add ...` commands kube-proxy sends): pods p1, p2, p3 on the bridge cni0, br_netfilter on.
# Service a (ClusterIP 10.96.0.10:80, NodePort 30080) has one endpoint, p1:8080 (numgen random mod 1, as
# kube-proxy writes it: always 0); service b (10.96.0.20:80, NodePort 30081) has two, p1 and p2, chosen with
# numgen inc (kube-proxy writes random; inc lets the kernel's choice be judged); service c (10.96.0.30:53/udp,
# NodePort 30083/tcp) has none: rejected. The client reaches ClusterIPs through a route to the node.
# kube-proxy writes `masquerade fully-random`; here it is plain `masquerade`, because the kernel draws a
# fully-random source port that no model can predict (the conntrack table is judged too).
ip netns add client
ip netns add p1
ip netns add p2
ip netns add p3
for ns in client p1 p2 p3; do
    ip netns exec $ns sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
sysctl -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
modprobe br_netfilter
sysctl -w net.ipv4.ip_forward=1
sysctl -w net.bridge.bridge-nf-call-iptables=1

ip link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns client
ip addr add 192.168.1.1/24 dev eth0
ip link set eth0 up
ip -n client link set lo up
ip -n client addr add 192.168.1.2/24 dev eth0
ip -n client link set eth0 up

ip link add cni0 address 02:00:00:00:0a:01 type bridge
ip addr add 10.244.0.1/24 dev cni0
ip link set cni0 up
ip link add vethp1 address 02:00:00:00:0b:02 type veth peer name eth0 address 02:00:00:00:0c:02 netns p1
ip link set vethp1 master cni0
ip link set vethp1 up
ip -n p1 link set lo up
ip -n p1 addr add 10.244.0.2/24 dev eth0
ip -n p1 link set eth0 up
ip -n p1 route add default via 10.244.0.1
ip link add vethp2 address 02:00:00:00:0b:03 type veth peer name eth0 address 02:00:00:00:0c:03 netns p2
ip link set vethp2 master cni0
ip link set vethp2 up
ip -n p2 link set lo up
ip -n p2 addr add 10.244.0.3/24 dev eth0
ip -n p2 link set eth0 up
ip -n p2 route add default via 10.244.0.1
ip link add vethp3 address 02:00:00:00:0b:04 type veth peer name eth0 address 02:00:00:00:0c:04 netns p3
ip link set vethp3 master cni0
ip link set vethp3 up
ip -n p3 link set lo up
ip -n p3 addr add 10.244.0.4/24 dev eth0
ip -n p3 link set eth0 up
ip -n p3 route add default via 10.244.0.1
ip -n client route add 10.96.0.0/12 via 192.168.1.1
# a default route back out of eth0 (ClusterIP traffic without a service is forwarded, then refused); no redirects
ip route add default via 192.168.1.2
sysctl -w net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0

nft -f - <<'NFT'
add table ip kube-proxy { comment "rules for kube-proxy" ; }
add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy service-AAAAAAAA-default/a/tcp/http
add chain ip kube-proxy external-AAAAAAAA-default/a/tcp/http
add chain ip kube-proxy endpoint-A1A1A1A1-default/a/tcp/http__10.244.0.2/8080
add chain ip kube-proxy service-BBBBBBBB-default/b/tcp/http
add chain ip kube-proxy external-BBBBBBBB-default/b/tcp/http
add chain ip kube-proxy endpoint-B1B1B1B1-default/b/tcp/http__10.244.0.2/8080
add chain ip kube-proxy endpoint-B2B2B2B2-default/b/tcp/http__10.244.0.3/8080
add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 10.96.0.0/12 } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add element ip kube-proxy nodeport-ips { 192.168.1.1 }
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services

add rule ip kube-proxy service-AAAAAAAA-default/a/tcp/http ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-AAAAAAAA-default/a/tcp/http numgen random mod 1 vmap { 0 : goto endpoint-A1A1A1A1-default/a/tcp/http__10.244.0.2/8080 }
add rule ip kube-proxy external-AAAAAAAA-default/a/tcp/http jump mark-for-masquerade
add rule ip kube-proxy external-AAAAAAAA-default/a/tcp/http goto service-AAAAAAAA-default/a/tcp/http
add rule ip kube-proxy endpoint-A1A1A1A1-default/a/tcp/http__10.244.0.2/8080 ip saddr 10.244.0.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-A1A1A1A1-default/a/tcp/http__10.244.0.2/8080 meta l4proto tcp dnat to 10.244.0.2:8080
add element ip kube-proxy cluster-ips { 10.96.0.10 }
add element ip kube-proxy service-ips { 10.96.0.10 . tcp . 80 : goto service-AAAAAAAA-default/a/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30080 : goto external-AAAAAAAA-default/a/tcp/http }

add rule ip kube-proxy service-BBBBBBBB-default/b/tcp/http ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
add rule ip kube-proxy service-BBBBBBBB-default/b/tcp/http numgen inc mod 2 vmap { 0 : goto endpoint-B1B1B1B1-default/b/tcp/http__10.244.0.2/8080 , 1 : goto endpoint-B2B2B2B2-default/b/tcp/http__10.244.0.3/8080 }
add rule ip kube-proxy external-BBBBBBBB-default/b/tcp/http jump mark-for-masquerade
add rule ip kube-proxy external-BBBBBBBB-default/b/tcp/http goto service-BBBBBBBB-default/b/tcp/http
add rule ip kube-proxy endpoint-B1B1B1B1-default/b/tcp/http__10.244.0.2/8080 ip saddr 10.244.0.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-B1B1B1B1-default/b/tcp/http__10.244.0.2/8080 meta l4proto tcp dnat to 10.244.0.2:8080
add rule ip kube-proxy endpoint-B2B2B2B2-default/b/tcp/http__10.244.0.3/8080 ip saddr 10.244.0.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-B2B2B2B2-default/b/tcp/http__10.244.0.3/8080 meta l4proto tcp dnat to 10.244.0.3:8080
add element ip kube-proxy cluster-ips { 10.96.0.20 }
add element ip kube-proxy service-ips { 10.96.0.20 . tcp . 80 : goto service-BBBBBBBB-default/b/tcp/http }
add element ip kube-proxy service-nodeports { tcp . 30081 : goto external-BBBBBBBB-default/b/tcp/http }

add element ip kube-proxy cluster-ips { 10.96.0.30 }
add element ip kube-proxy no-endpoint-services { 10.96.0.30 . udp . 53 : goto reject-chain }
add element ip kube-proxy no-endpoint-nodeports { tcp . 30083 : goto reject-chain }
NFT

ip netns exec p1 socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo p1' &
ip netns exec p2 socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo p2' &
