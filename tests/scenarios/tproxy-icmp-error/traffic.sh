# a connection to 198.51.100.10:80 taken by the transparent listener, which answers after 4 s
ip netns exec client socat -u -T 6 TCP:198.51.100.10:80,connect-timeout=2,sourceport=40001 - &
sleep 0.7
# while it is open: the client's port unreachable quoting the proxy's segment 198.51.100.10:80 >
# 10.1.0.2:40001 (its socket is found: marked, delivered), then one quoting 198.51.100.10:80 >
# 10.1.0.2:40099 (no socket: no route, dropped)
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='198.51.100.10')/ICMP(type=3, code=3)/IP(src='198.51.100.10', dst='10.1.0.2', id=0)/TCP(sport=80, dport=40001, flags='A', seq=1, ack=1)" \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='198.51.100.10')/ICMP(type=3, code=3)/IP(src='198.51.100.10', dst='10.1.0.2', id=0)/TCP(sport=80, dport=40099, flags='A', seq=1, ack=1)"
wait
