# the uplinks resolve the router first (so the router's neighbour entries for them exist and are valid)
ip netns exec r1 ping -c 1 -W 1 10.0.1.1
ip netns exec r2 ping -c 1 -W 1 10.0.2.1
ip netns exec r1 ping -6 -c 1 -W 1 2001:db8:a::1
ip netns exec r2 ping -6 -c 1 -W 1 2001:db8:b::1
sleep 0.3
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
C="2001:db8:1::2"
frames=()
# UDP to twelve addresses of the weighted route (1:2)
for h in $(seq 1 12); do
    frames+=("$E/IPv6(src='$C', dst='2001:db8:100::$h')/UDP(sport=40001, dport=53)/Raw(b'q')")
done
# one destination of the equal route, eight flow labels (policy 0 hashes the label)
for l in $(seq 1 8); do
    frames+=("$E/IPv6(src='$C', dst='2001:db8:200::5', fl=$((0x12340 + l)))/UDP(sport=40002, dport=53)/Raw(b'q')")
done
# TCP SYNs to one address from four source addresses
for s in 10 11 12 13; do
    frames+=("$E/IPv6(src='2001:db8:1::$s', dst='2001:db8:200::9')/TCP(sport=50001, dport=443, flags='S', seq=1000)")
done
# echo requests, and ICMPv6 errors whose embedded datagram decides the hash (ip6_multipath_l3_keys)
frames+=("$E/IPv6(src='$C', dst='2001:db8:100::7')/ICMPv6EchoRequest(id=7101, seq=1)")
frames+=("$E/IPv6(src='$C', dst='2001:db8:200::4')/ICMPv6EchoRequest(id=7102, seq=1)")
frames+=("$E/IPv6(src='$C', dst='2001:db8:100::5')/ICMPv6DestUnreach(code=4)/IPv6(src='2001:db8:100::200', dst='$C')/UDP(sport=53, dport=40001)")
frames+=("$E/IPv6(src='$C', dst='2001:db8:100::5')/ICMPv6DestUnreach(code=4)/IPv6(src='2001:db8:100::201', dst='$C')/UDP(sport=53, dport=40001)")
frames+=("$E/IPv6(src='$C', dst='2001:db8:100::5')/ICMPv6PacketTooBig(mtu=1280)/IPv6(src='2001:db8:100::202', dst='$C')/UDP(sport=53, dport=40001)")
# the IPv6 nexthop group (6 weight 2, 7 weight 1)
for h in $(seq 1 8); do
    frames+=("$E/IPv6(src='$C', dst='2001:db8:300::$h')/UDP(sport=40003, dport=53)/Raw(b'q')")
done
# the IPv4 nexthop group (1 weight 1, 2 weight 3)
for h in $(seq 1 8); do
    frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.$h', id=$((8000 + h)))/UDP(sport=40004, dport=53)/Raw(b'q')")
done
# UDP to a closed port of the router from 2001:db8:400::/64, with flow labels: the port unreachable
# goes back over the multipath route, hashed on the datagram (its label and next header)
for h in $(seq 1 8); do
    frames+=("$E/IPv6(src='2001:db8:400::$h', dst='2001:db8:1::1', fl=$((0x5000 + h)))/UDP(sport=40005, dport=9)/Raw(b'q')")
done
ip netns exec client sendframe --gap 0.2 eth0 "${frames[@]}"
