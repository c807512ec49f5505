# a short ping passes every filter; a long one is dropped by pref 30; UDP to 7777 is mirrored to the
# monitor and dropped by pref 10; TCP to 80 (pref 20) and UDP to 7779 (pref 25) skip pref 30 and
# reach closed ports (RST, port unreachable); TCP to 23 is marked by pref 25 and dropped by nft
# input; TCP to 22 and UDP to 7778 are dropped by pref 30.
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 -s 600 10.1.0.1 || true
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7001)/UDP(sport=40001, dport=7777)/Raw(b'mirror')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7002)/UDP(sport=40002, dport=7778)/Raw(b'shot')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7003)/UDP(sport=40003, dport=7779)/Raw(b'ok')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7004)/TCP(sport=40004, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7005)/TCP(sport=40005, dport=22, flags='S', seq=2000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7006)/TCP(sport=40006, dport=23, flags='S', seq=3000)"
sleep 0.3
