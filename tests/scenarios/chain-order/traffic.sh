# TCP 22: jump to tcp_ports, accept there (ip filter and inet late still run: accept ends only that chain)
ip netns exec client socat -u -T 2 TCP:10.1.0.1:22,connect-timeout=2,sourceport=40001 -
sleep 0.3
# TCP 23: dropped in tcp_ports
ip netns exec client socat - TCP:10.1.0.1:23,connect-timeout=0.5,sourceport=40002 </dev/null || true
sleep 0.3
# TCP 24: tcp_ports falls off its end (implicit return), input's policy accepts, ip filter drops
ip netns exec client socat - TCP:10.1.0.1:24,connect-timeout=0.5,sourceport=40003 </dev/null || true
sleep 0.3
# TCP 25: falls through everything, RST from the host
ip netns exec client socat - TCP:10.1.0.1:25,connect-timeout=0.5,sourceport=40004 </dev/null || true
sleep 0.3
# UDP 5000 (notrack), 5001 (goto udp_ports, explicit return: the base chain's policy), 5002 (accept), 5003 (end of a goto chain)
for p in 5000 5001 5002 5003; do
    ip netns exec client socat -u - UDP:10.1.0.1:$p,sourceport=4$p <<<"udp $p"
    sleep 0.3
done
# ICMP through the verdict map: echo request accepted, timestamp request dropped (crafted)
ip netns exec client ping -c 1 -W 1 10.1.0.1
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=3333)/ICMP(type=13, id=9, seq=1)"
