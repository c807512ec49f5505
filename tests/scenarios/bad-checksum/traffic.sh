sleep 0.3
# Connections made by the client's own stack (checksums left to offload: CHECKSUM_PARTIAL on the veths,
# a pseudo-header sum on the wire): through both routers to the server, and to the host's listener.
timeout 5 ip netns exec client sh -c 'echo hello | socat -t 1 - TCP:10.3.0.2:80,sourceport=40080'
sleep 0.3
timeout 5 ip netns exec client sh -c 'echo hi | socat -t 1 - TCP:10.1.0.1:22,sourceport=40022'
sleep 0.3
# Crafted frames with a wrong transport checksum (a packet socket: CHECKSUM_NONE). To the host itself:
# TCP to its listener, TCP to port 23 (dropped as invalid), UDP, an echo request, TCP to the DNATed
# port 8080 (not NATed: invalid), a SYN to the synproxy port (untracked; synproxy checks the checksum).
# Through the host: TCP to the server, UDP to port 54 (dropped as invalid), UDP and an echo request to
# r2 (nf_conntrack_checksum=0 there: tracked as new), and UDP without a checksum (0) to the server.
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5101)/TCP(sport=41001, dport=22, flags='S', seq=1000, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5102)/TCP(sport=41002, dport=23, flags='S', seq=1000, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5103)/UDP(sport=41003, dport=53, chksum=0x1234)/Raw(b'query')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5104)/ICMP(id=5104, seq=1, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5105)/TCP(sport=41005, dport=8080, flags='S', seq=1000, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=5106)/TCP(sport=41006, dport=2222, flags='S', seq=1000, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', id=5107)/TCP(sport=41007, dport=80, flags='S', seq=1000, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', id=5108)/UDP(sport=41008, dport=54, chksum=0x1234)/Raw(b'query')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=5109)/UDP(sport=41009, dport=53, chksum=0x1234)/Raw(b'query')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=5110)/ICMP(id=5110, seq=1, chksum=0x1234)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', id=5111)/UDP(sport=41011, dport=55, chksum=0)/Raw(b'query')"
sleep 0.5
