# a plain forwarded ping first (the router learns the client's MAC)
ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.2.0.2
sleep 0.3
# crafted, to the router's MAC: one packet per rule and per martian check
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.17', dst='10.2.0.2')/ICMP(id=1, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.33', dst='10.2.0.2')/ICMP(id=2, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.49', dst='10.2.0.2')/ICMP(id=3, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.66', dst='10.3.0.5')/ICMP(id=4, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.80', dst='10.3.0.5')/ICMP(id=5, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.97', dst='10.2.0.2')/ICMP(id=6, seq=1)"
sleep 1
# accept_local on eth0 (conf.all 0): a source that is the router's own eth1 address, unicast and broadcast
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.2.0.1', dst='10.1.0.1')/UDP(sport=4000, dport=9)" \
  "Ether(src='02:00:00:00:01:02', dst='ff:ff:ff:ff:ff:ff')/IP(src='10.2.0.1', dst='10.1.0.255')/UDP(sport=4000, dport=9)"
sleep 0.5
# martians: destination 0.0.0.0/8, destination and source 127.0.0.1 (route_localnet off)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='0.1.2.3')/ICMP(id=7, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='127.0.0.1')/ICMP(id=8, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='127.0.0.1', dst='10.1.0.1')/ICMP(id=9, seq=1)"
