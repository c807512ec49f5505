# echo passes; UDP to 7777 is dropped by XDP (no answer, also with TTL 1); UDP to 7778 passes and
# the closed port answers with ICMP port unreachable.
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7777)/Raw(b"drop")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7778)/Raw(b"pass")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1",ttl=1)/UDP(sport=40002,dport=7777)/Raw(b"ttl1")'
sleep 0.3
