sleep 0.5
# IPv4 echo: iptables' drop went with nft flush ruleset ip
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=1)/ICMP(type=8, id=7, seq=1)"
sleep 0.3
# IPv6 echo: ip6tables still drops it
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1')/ICMPv6EchoRequest(id=7, seq=2)"
sleep 0.3
# IPv6 TCP 81: V6 was flushed, the host answers with a RST
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1')/TCP(sport=40081, dport=81, flags='S', seq=81000)"
sleep 0.3
# port 80 (an element: accept): the listener's SYN-ACK leaves with SACK-permitted turned into NOPs
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=80)/TCP(sport=40080, dport=80, flags='S', seq=80000, options=[('MSS', 1460), ('SAckOK', b''), ('NOP', None), ('WScale', 7)])"
sleep 0.3
# port 83 (an element: drop), 84 (the catch-all: other, mark 2, dropped), 85 (the catch-all: other, mark 1, RST)
for p in 83 84 85; do
  ip netns exec client sendframe eth0 \
    "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=$p)/TCP(sport=400$p, dport=$p, flags='S', seq=${p}000)"
  sleep 0.3
done
# port 86: MSS 1400 accepted by the raw option match (RST), MSS 1460 left to the catch-all (dropped)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=861)/TCP(sport=40861, dport=86, flags='S', seq=861000, options=[('MSS', 1400)])"
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=862)/TCP(sport=40862, dport=86, flags='S', seq=862000, options=[('MSS', 1460)])"
sleep 0.3
