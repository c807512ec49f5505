# UDP to 7777 is dropped by the native program, 7779 aborted (both freed in veth_xdp_rcv_skb), 7778
# sent back with XDP_TX, which veth_xdp_xmit refuses (the client's eth0 has no NAPI: -ENXIO); UDP to
# 7780 passes to a closed port (ICMP port unreachable); a ping to the host passes; a ping to 10.3.0.2
# is routed out of eth1, which has no carrier (its peer is down): the noop qdisc drops it.
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7777)/Raw(b"drop")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7779)/Raw(b"abort")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7778)/Raw(b"tx")'
sleep 0.3
ip netns exec client sendframe eth0 'Ether(src="02:00:00:00:01:02",dst="02:00:00:00:01:01")/IP(src="10.1.0.2",dst="10.1.0.1")/UDP(sport=40001,dport=7780)/Raw(b"pass")'
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.3.0.2 || true
sleep 0.3
