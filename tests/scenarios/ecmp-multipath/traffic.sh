# the uplinks resolve the router first (so the router's neighbour entries exist)
ip netns exec r1 ping -c 1 -W 1 10.0.1.1
ip netns exec r2 ping -c 1 -W 1 10.0.2.1
sleep 0.3
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
frames=()
# UDP to sixteen addresses of the weighted route (1:2)
for h in $(seq 1 16); do
    frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.$h', id=$((8000 + h)))/UDP(sport=40001, dport=53)/Raw(b'q')")
done
# UDP to eight addresses of the equal-weight route
for h in 1 2 3 4 5 6 7 8; do
    frames+=("$E/IP(src='10.1.0.2', dst='203.0.113.$h', id=$((9000 + h)))/UDP(sport=5353, dport=5353)/Raw(b'q')")
done
# TCP SYNs to one address from four source addresses
for s in 10 11 12 13; do
    frames+=("$E/IP(src='10.1.0.$s', dst='198.51.100.9', id=$((7000 + s)))/TCP(sport=50001, dport=443, flags='S', seq=1000)")
done
# echo requests, and ICMP errors whose embedded datagram decides the hash (ip_multipath_l3_keys)
frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.7', id=7101)/ICMP(id=7101, seq=1)")
frames+=("$E/IP(src='10.1.0.2', dst='203.0.113.4', id=7102)/ICMP(id=7102, seq=1)")
frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.5', id=7103)/ICMP(type=3, code=3)/IP(src='198.51.100.200', dst='10.1.0.2', id=1)/UDP(sport=53, dport=40001)")
frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.5', id=7104)/ICMP(type=3, code=3)/IP(src='198.51.100.201', dst='10.1.0.2', id=2)/UDP(sport=53, dport=40001)")
ip netns exec client sendframe --gap 0.2 eth0 "${frames[@]}"
