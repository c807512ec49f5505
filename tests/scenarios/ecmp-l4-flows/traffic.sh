# the uplinks resolve the router first (so the router's neighbour entries for them exist and are valid)
ip netns exec r1 ping -c 1 -W 1 10.0.1.1
ip netns exec r2 ping -c 1 -W 1 10.0.2.1
ip netns exec r1 ping -6 -c 1 -W 1 2001:db8:a::1
ip netns exec r2 ping -6 -c 1 -W 1 2001:db8:b::1
sleep 0.3
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
C="2001:db8:1::2"
frames=()
# three rounds over every flow, so each flow's packets are spread over the capture
for round in 1 2 3; do
    for h in 1 2 3 4; do
        # UDP over the IPv4 multipath route and the IPv4 nexthop group
        frames+=("$E/IP(src='10.1.0.2', dst='203.0.113.$h', id=$((9000 + 10 * round + h)))/UDP(sport=$((40000 + h)), dport=53)/Raw(b'q$round')")
        frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.$h', id=$((9100 + 10 * round + h)))/UDP(sport=$((40100 + h)), dport=4789)/Raw(b'q$round')")
        # TCP segments of one connection each (SYN, then ACKs) over IPv4 and the IPv6 routes
        if [ $round = 1 ]; then F=S; else F=A; fi
        frames+=("$E/IP(src='10.1.0.2', dst='198.51.100.$((10 + h))', id=$((9200 + 10 * round + h)))/TCP(sport=$((41000 + h)), dport=80, flags='$F', seq=1000)")
        frames+=("$E/IPv6(src='$C', dst='2001:db8:200::$h')/TCP(sport=$((42000 + h)), dport=443, flags='$F', seq=2000)")
        frames+=("$E/IPv6(src='$C', dst='2001:db8:100::$h')/UDP(sport=$((43000 + h)), dport=53)/Raw(b'q$round')")
        frames+=("$E/IPv6(src='$C', dst='2001:db8:300::$h')/UDP(sport=$((44000 + h)), dport=123)/Raw(b'q$round')")
    done
done
ip netns exec client sendframe --gap 0.1 eth0 "${frames[@]}"
