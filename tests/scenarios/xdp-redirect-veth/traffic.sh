# UDP to 7777 is redirected to the server (closed port: ICMP port unreachable, routed back by the
# host); so is one of 1004 bytes (IP), 4 more than eth1's MTU, which xdp_ok_fwd_dev allows (mtu +
# hard_header_len + VLAN_HLEN), but not one of 1005 (EMSGSIZE: dropped). 7778-7783 try the failures
# and fallbacks (xdp_redirect.c); a ping to the server is routed by the stack.
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7777)/Raw(b"redirect")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7777)/Raw(b"x" * 976)'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7777)/Raw(b"y" * 977)'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7778)/Raw(b"down")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7779)/Raw(b"nodev")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7780)/Raw(b"flags")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7781)/Raw(b"map-pass")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7782)/Raw(b"map-abort")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7783)/Raw(b"hash-drop")'
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
