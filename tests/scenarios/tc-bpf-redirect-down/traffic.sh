# UDP from the client to 10.2.0.2, one frame per port of tc_redirect_down.c, then a ping to the host
# (no redirect: the program lets it go on).
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7777)/Raw(b"egress-down")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7778)/Raw(b"ingress-down")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7779)/Raw(b"egress-up")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.2.0.2")/UDP(sport=40001,dport=7780)/Raw(b"peer-down")'
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
