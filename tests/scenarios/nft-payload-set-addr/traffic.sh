# Crafted packets from the client, one sendframe; what the server answers comes back through the router.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
A="src='10.1.0.2', dst='10.2.0.2'"
# to 10.2.0.100, rewritten to 10.2.0.2 before conntrack: the echo reply is established and forwarded
F+=("$E/IP(src='10.1.0.2', dst='10.2.0.100')/ICMP(id=1, seq=1)/b'abcdefgh'")
# to 10.2.0.50, rewritten to 10.2.0.2 in forward (after conntrack): the reply from 10.2.0.2 is invalid
F+=("$E/IP(src='10.1.0.2', dst='10.2.0.50')/ICMP(id=2, seq=1)/b'abcdefgh'")
# TCP to 8080, rewritten to 80 before conntrack: the server's RST (no listener) is established
F+=("$E/IP($A)/TCP(sport=40001, dport=8080, flags='S', seq=1000)")
# UDP to 7000, rewritten to 7001 in forward: the port unreachable quotes a flow conntrack does not know (invalid)
F+=("$E/IP($A)/UDP(sport=40002, dport=7000)/b'payload1'")
# the same with UDP checksum 0: the port write's checksum update does not look at 0
F+=("$E/IP($A)/UDP(sport=40003, dport=7000, chksum=0)/b'payload2'")
# th dport set: no checksum update, the server drops the datagram for its checksum
F+=("$E/IP($A)/UDP(sport=40004, dport=9000)/b'payload3'")
# echo with sequence 7: source 10.1.0.2 mapped to 10.1.0.4 before conntrack, the reply goes to 10.1.0.4
F+=("$E/IP($A)/ICMP(id=3, seq=7)/b'abcdefgh'")
ip netns exec client sendframe eth0 "${F[@]}"
