# bare ACKs (no connection) from the client: the listener on 8080 resets through gw, 8082 and the
# closed 8083 directly
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40011, dport=8080, flags='A', seq=1000, ack=5000)" \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40012, dport=8082, flags='A', seq=1000, ack=5000)" \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40013, dport=8083, flags='A', seq=1000, ack=5000)"
sleep 0.3
# a connection to 8080, which closes first (its socket stays in TIME_WAIT with the mark)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:8080,connect-timeout=2,sourceport=40001 -
sleep 0.5
# an out-of-window ACK for that connection: the TIME_WAIT socket answers with an ACK through gw
ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1')/TCP(sport=40001, dport=8080, flags='A', seq=1000, ack=5000)"
