# ICMP has no slot in the program array: the tail call falls through, the entry returns TC_ACT_OK
# and the ping is answered. TCP to 80 is dropped by tc_tcp, TCP to 22 passes (closed port: RST).
# UDP starting "DROP" is dropped by tc_udp; UDP with other payload passes, and UDP with fewer than
# 4 payload bytes makes tc_udp's LD_IND load fail (the program returns 0, TC_ACT_OK): both are
# answered with ICMP port unreachable.
ip netns exec client ping -c 2 -i 0.3 -W 1 10.1.0.1
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7001)/TCP(sport=40001, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7002)/TCP(sport=40002, dport=22, flags='S', seq=2000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7003)/UDP(sport=40003, dport=7777)/Raw(b'DROP this')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7004)/UDP(sport=40004, dport=7777)/Raw(b'keep this')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7005)/UDP(sport=40005, dport=7778)/Raw(b'ab')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7006)/UDP(sport=40006, dport=9999)/Raw(b'chain')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7007)/TCP(sport=40007, dport=80, flags='S', seq=3000)"
sleep 0.3
