# UDP to a closed port of the server: its ICMP port unreachable is related
ip netns exec client socat -u - UDP:10.2.0.2:9999,sourceport=40001 <<<"anyone?"
sleep 0.3
# TCP to a closed port: the RST is part of the connection (established in the reply direction)
ip netns exec client socat - TCP:10.2.0.2:81,connect-timeout=1,sourceport=40002 </dev/null || true
sleep 0.3
# through the server to an unreachable network (crafted so that the server routes it): the
# server's ICMP host unreachable is related
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.9.0.1', id=4401)/UDP(sport=40003, dport=53)/Raw(b'x')"
sleep 0.3
# an ICMP error from the server that belongs to no tracked flow (crafted inside the server): invalid, dropped by the policy
ip netns exec server sendframe eth0 \
  "Ether(src='02:00:00:00:02:02', dst='02:00:00:00:02:01')/IP(src='10.2.0.2', dst='10.1.0.2', id=4402)/ICMP(type=3, code=3)/IP(src='10.1.0.2', dst='10.2.0.2', id=1)/UDP(sport=12345, dport=9)"
