# h1 sends frames whose source MAC is a local entry of br0 (broadcast, unicast to h2, unicast to an
# unknown MAC), port2's own MAC and br0's own MAC; then h2 sends to h1 and h1 to h2 with their own
# MACs (h2's MAC learned: the unicast goes to port2 only)
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:07:07', dst='ff:ff:ff:ff:ff:ff')/IP(src='10.0.0.7', dst='10.0.0.255', id=9001)/ICMP(id=91, seq=1)" \
  "Ether(src='02:00:00:00:07:07', dst='02:00:00:00:02:02')/IP(src='10.0.0.7', dst='10.0.0.2', id=9002)/ICMP(id=92, seq=1)" \
  "Ether(src='02:00:00:00:09:09', dst='02:00:00:00:04:04')/IP(src='10.0.0.9', dst='10.0.0.4', id=9003)/ICMP(id=93, seq=1)" \
  "Ether(src='02:00:00:00:02:01', dst='ff:ff:ff:ff:ff:ff')/IP(src='10.0.0.7', dst='10.0.0.255', id=9004)/ICMP(id=94, seq=1)" \
  "Ether(src='02:00:00:00:00:10', dst='02:00:00:00:02:02')/IP(src='10.0.0.7', dst='10.0.0.2', id=9005)/ICMP(id=95, seq=1)"
ip netns exec h2 sendframe eth0 \
  "Ether(src='02:00:00:00:02:02', dst='02:00:00:00:01:02')/IP(src='10.0.0.2', dst='10.0.0.1', id=9006)/UDP(sport=9006, dport=9)"
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:07:07')/IP(src='10.0.0.1', dst='10.0.0.7', id=9007)/UDP(sport=9007, dport=9)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:02:02')/IP(src='10.0.0.1', dst='10.0.0.2', id=9008)/UDP(sport=9008, dport=9)"
