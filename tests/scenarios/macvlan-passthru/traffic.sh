# the client to c1: ARP (the broadcast reaches the host's stack and c1), ping and TCP
ip netns exec client ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=46001 -
sleep 0.3
# crafted: an echo request to a MAC nobody has, for c1's address: passthru takes it (pkt_type HOST) and c1 answers
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:00:64', dst='02:00:00:00:00:99')/IP(src='10.0.0.100', dst='10.0.0.2')/ICMP(id=7, seq=1)"
sleep 0.3
# the client to the host: the host answers the ARP request with eth0's MAC, which is c1's too, so
# the echo request goes to c1, which does not forward it
ip netns exec client ping -c 1 -W 1 10.0.0.1 || true
