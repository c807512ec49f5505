# a small ping passes both filters, a long one is dropped by the second; UDP to 7777 is dropped by
# the first, UDP to 7778 passes (closed port: ICMP port unreachable); TCP to 80 is marked and
# dropped by nft input, TCP to 22 passes (closed port: RST).
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 -s 600 10.1.0.1 || true
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7001)/UDP(sport=40001, dport=7777)/Raw(b'drop')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7002)/UDP(sport=40002, dport=7778)/Raw(b'pass')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7003)/TCP(sport=40003, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7004)/TCP(sport=40004, dport=22, flags='S', seq=2000)"
sleep 0.3
