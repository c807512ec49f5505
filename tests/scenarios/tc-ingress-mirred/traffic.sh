ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.2.0.2
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.66 10.2.0.2
sleep 0.3
# a SYN to the router's telnet port and one to the server's (both dropped at eth0's ingress)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7001)/TCP(sport=40001, dport=23, flags='S', seq=1000)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7002)/TCP(sport=40002, dport=23, flags='S', seq=1000)"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:7000,sourceport=40003 <<<"redirected"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:5353,sourceport=40004 <<<"dropped at eth1 egress"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:5000,sourceport=40005 <<<"to no socket"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:5001,sourceport=40006 <<<"dropped in forward"
