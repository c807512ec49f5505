# a genuine ping first (so that the neighbour entries exist)
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
# crafted on eth0 (strict): a source that routes back through eth0 (passes), a source that routes
# back through eth1 (dropped), a source that routes back through eth2 (dropped), a martian
# source 127.0.0.1 and a zeronet source
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.77', dst='10.2.0.2', id=8001)/UDP(sport=7000, dport=9)/Raw(b'ok')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.2.0.77', dst='10.2.0.2', id=8002)/UDP(sport=7000, dport=9)/Raw(b'spoof')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.3.0.77', dst='10.2.0.2', id=8003)/UDP(sport=7000, dport=9)/Raw(b'spoof')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='127.0.0.1', dst='10.2.0.2', id=8004)/UDP(sport=7000, dport=9)/Raw(b'martian')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='0.1.2.3', dst='10.2.0.2', id=8005)/UDP(sport=7000, dport=9)/Raw(b'zeronet')"
