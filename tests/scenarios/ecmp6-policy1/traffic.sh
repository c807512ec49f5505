# the uplinks resolve the router first (so the router's neighbour entries for them exist and are valid)
ip netns exec r1 ping -c 1 -W 1 10.0.1.1
ip netns exec r2 ping -c 1 -W 1 10.0.2.1
ip netns exec r1 ping -6 -c 1 -W 1 2001:db8:a::1
ip netns exec r2 ping -6 -c 1 -W 1 2001:db8:b::1
sleep 0.3
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
C="2001:db8:1::2"
frames=()
# echo requests to ten addresses of the weighted route (1:2)
for h in $(seq 1 10); do
    frames+=("$E/IPv6(src='$C', dst='2001:db8:100::$h')/ICMPv6EchoRequest(id=$((7100 + h)), seq=1)")
done
# ICMPv6 errors: under policy 1 their outer addresses decide, whatever datagram they carry
for h in 1 2 3 4; do
    frames+=("$E/IPv6(src='2001:db8:1::$((20 + h))', dst='2001:db8:200::5')/ICMPv6DestUnreach(code=4)/IPv6(src='2001:db8:200::5', dst='2001:db8:1::$((20 + h))')/UDP(sport=53, dport=40001)")
done
# echo requests through the IPv6 nexthop group and the IPv4 one
for h in $(seq 1 6); do
    frames+=("$E/IPv6(src='$C', dst='2001:db8:300::$h')/ICMPv6EchoRequest(id=$((7200 + h)), seq=1)")
done
for h in $(seq 1 6); do
    frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.$h', id=$((8000 + h)))/ICMP(id=$((7300 + h)), seq=1)")
done
ip netns exec client sendframe --gap 0.2 eth0 "${frames[@]}"
