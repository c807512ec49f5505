# pings to 10.1.0.1 are answered by XDP (the reply is the request sent back), one of 1000 bytes too;
# a ping to the host's other address 10.1.0.3 passes and the stack answers; UDP to a closed port of
# 10.1.0.1 passes and gets ICMP port unreachable; an echo request crafted with TTL 1 is reflected too.
ip netns exec client ping -c 2 -i 0.3 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -s 1000 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.1.0.3
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7777)/Raw(b"closed")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1",ttl=1)/ICMP(type=8,id=77,seq=1)/Raw(b"ttl1")'
sleep 0.3
