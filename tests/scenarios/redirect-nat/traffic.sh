# Crafted frames from the client (its own stack never sends them, so the redirects change nothing
# there); each pair is one connection. ip_rt_send_redirect's backoff per sender (20 ms << n) never
# holds one back here: the frames are 300 ms apart.
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
# 10.2.0.5 (null binding): the first packet's redirect is dropped by nf_nat (SRC_NAT not done yet);
# the second's goes out
ip netns exec client sendframe eth0 \
  "$E/IP(src='10.1.0.2', dst='10.2.0.5', id=8001)/ICMP(id=81, seq=1)" \
  "$E/IP(src='10.1.0.2', dst='10.2.0.5', id=8002)/ICMP(id=81, seq=2)"
sleep 0.3
# 10.3.0.5 (masqueraded): no redirect for either
ip netns exec client sendframe eth0 \
  "$E/IP(src='10.1.0.2', dst='10.3.0.5', id=8003)/ICMP(id=83, seq=1)" \
  "$E/IP(src='10.1.0.2', dst='10.3.0.5', id=8004)/ICMP(id=83, seq=2)"
sleep 0.3
# a UDP flow to 10.2.0.5 (gw answers the client with port unreachable directly): the first datagram's
# redirect is dropped (a new connection), the second's goes out
ip netns exec client sendframe eth0 \
  "$E/IP(src='10.1.0.2', dst='10.2.0.5', id=8005)/UDP(sport=40005, dport=5005)/Raw(b'a')" \
  "$E/IP(src='10.1.0.2', dst='10.2.0.5', id=8006)/UDP(sport=40005, dport=5005)/Raw(b'b')"
