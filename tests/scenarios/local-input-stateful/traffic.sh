ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:22,connect-timeout=2,sourceport=40001 -
sleep 0.3
# no rule for port 23: dropped by the policy (no RST), the client retransmits the SYN once
ip netns exec client socat - TCP:10.1.0.1:23,connect-timeout=1.5,sourceport=40002 </dev/null || true
sleep 0.3
# the host connects out: the replies are established
socat -u -T 2 TCP:10.1.0.2:9000,connect-timeout=2,sourceport=40003 -
sleep 0.3
# a lone ACK to port 22 that belongs to no connection (crafted)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=4242)/TCP(sport=40009, dport=22, flags='A', seq=1000, ack=2000)"
