ip netns exec client ping -c 1 -W 3 -I 10.1.0.2 10.2.0.2
sleep 0.5
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7001)/TCP(sport=40001, dport=23, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.66', dst='10.2.0.2', id=7002)/ICMP(id=66, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.9', id=7003)/ICMP(id=67, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7004)/UDP(sport=40004, dport=7001)/Raw(b'continue')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7005)/UDP(sport=40005, dport=7005)/Raw(b'dropped')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7006)/UDP(sport=40006, dport=6000)/Raw(b'tagged')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7007)/UDP(sport=40007, dport=6001)/Raw(b'egress drop')"
