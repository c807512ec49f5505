H1="02:00:00:00:01:02"; H2="02:00:00:00:02:02"; H3="02:00:00:00:03:02"; H4="02:00:00:00:04:02"
# h3 and h4 (on the port set to blocking, forwarding anyway) make themselves known
ip netns exec h3 sendframe eth0 "Ether(src='$H3', dst='$H1')/IP(src='10.0.0.3', dst='10.0.0.1', id=301)/UDP(sport=3000, dport=9)/Raw(b'hello')"
ip netns exec h4 sendframe eth0 "Ether(src='$H4', dst='$H1')/IP(src='10.0.0.4', dst='10.0.0.1', id=401)/UDP(sport=4000, dport=9)/Raw(b'hello')"
# h2 pings h1: h1's MAC is not known yet (flooded to port1 only), the reply is forwarded
ip netns exec h2 ping -c 1 -W 1 10.0.0.1
sleep 0.3
# crafted from h1: a frame from a second MAC behind port1 (learned there), then a frame to that MAC
# (hairpin: back out of port1), to h3's MAC, to an unknown MAC (flooded to every port and, hairpin,
# back to port1)
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:99', dst='$H2')/IP(src='10.0.0.99', dst='10.0.0.200', id=101)/UDP(sport=1000, dport=9)/Raw(b'second')" \
  "Ether(src='$H1', dst='02:00:00:00:01:99')/IP(src='10.0.0.1', dst='10.0.0.99', id=102)/UDP(sport=1000, dport=9)/Raw(b'hairpin')" \
  "Ether(src='$H1', dst='$H3')/IP(src='10.0.0.1', dst='10.0.0.3', id=103)/UDP(sport=1000, dport=9)/Raw(b'to-h3')" \
  "Ether(src='$H1', dst='02:00:00:00:09:09')/IP(src='10.0.0.1', dst='10.0.0.4', id=104)/UDP(sport=1000, dport=9)/Raw(b'flood')"
