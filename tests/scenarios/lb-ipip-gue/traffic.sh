ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
# the VIP reached directly (what DSR delivers): the listener on lo's address answers
ip netns exec client socat -u -T 2 TCP:10.100.0.10:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
# crafted as the load balancer sends them (outer source 10.1.0.2, inner client 198.51.100.7 to the VIP):
# IP-in-IP; GUE variant 1 (direct IPv4) to 6080; GUE variant 0 (4-byte header, proto 4) to 6080;
# direct FOU to 5555; GUE to 6081, where an ordinary UDP socket listens
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9001)/IP(src='198.51.100.7', dst='10.100.0.10', id=1)/TCP(sport=40010, dport=80, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9002)/UDP(sport=40011, dport=6080)/Raw(bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=2)/TCP(sport=40011, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9003)/UDP(sport=40012, dport=6080)/Raw(b'\x00\x04\x00\x00' + bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=3)/TCP(sport=40012, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9004)/UDP(sport=40013, dport=5555)/Raw(bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=4)/TCP(sport=40013, dport=80, flags='S', seq=1000)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=9005)/UDP(sport=40014, dport=6081)/Raw(bytes(IP(src='198.51.100.7', dst='10.100.0.10', id=5)/TCP(sport=40014, dport=80, flags='S', seq=1000)))"
