ip netns exec client ping -c 1 -W 2 10.1.0.1
sleep 0.3
# crafted as the load balancer sends them (outer source 10.1.0.2, inner client 198.51.100.7 to the
# VIP): IP-in-IP (ipip0 takes it), direct FOU to 5555, GUE variant 0 (proto 4) and variant 1 (direct
# IPv4) to 6080, GUE with an unknown protocol (47, no handler), IP-in-IP to an address that is not
# local (forwarding is off: dropped), then a UDP datagram to 6081 (no FOU port: port unreachable)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9001)/IP(src='198.51.100.7', dst='10.100.0.10', id=1)/TCP(sport=40010, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9002)/UDP(sport=40011, dport=5555)/Raw(bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=2)/TCP(sport=40011, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9003)/UDP(sport=40012, dport=6080)/Raw(b'\x00\x04\x00\x00' + bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=3)/TCP(sport=40012, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9004)/UDP(sport=40013, dport=6080)/Raw(bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=4)/TCP(sport=40013, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9005)/UDP(sport=40014, dport=6080)/Raw(b'\x00\x2f\x00\x00' + b'\x00' * 24)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9006)/IP(src='198.51.100.7', dst='10.200.0.1', id=6)/TCP(sport=40015, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9007)/UDP(sport=40016, dport=6081)/Raw(b'not encapsulated')"
