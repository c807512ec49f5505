# UDP 7000 with udp-pol: answered for 2 s: replied 70 and assured
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
sleep 2.5
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
# UDP 7003 with udp-pol, no listener (port unreachable): unreplied 33, the sysctl when nfct made it
echo x | timeout 2 ip netns exec client socat -t 0.2 - UDP:10.1.0.1:7003,sourceport=41003 || true
# UDP 7001 with udp-short (3 s): the answered flow's entry is gone 4 s later, the next datagram is
# new again and passes; 7002 without a policy (40 s) is still established and dropped
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7001,sourceport=41001
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7002,sourceport=41002
sleep 4
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7001,sourceport=41001
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7002,sourceport=41002 || true
# OSPF (the generic tracker): gen-pol's 44 s; the host answers protocol unreachable
ip netns exec client sendframe eth0 "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=701, proto=89)/Raw(b'ospf')"
# TCP 23: no listener and the RST is dropped before conntrack: SYN_SENT with the policy's 55 s
timeout 2 ip netns exec client socat -T 1.5 - TCP:10.1.0.1:23,sourceport=42300 </dev/null || true
# TCP 22 held open past the listing: ESTABLISHED with the policy's 100 s
(echo hello; sleep 40) | timeout 45 ip netns exec client socat - TCP:10.1.0.1:22,sourceport=42200 >/dev/null &
sleep 1
# ping last: icmp-pol's 9 s (the sysctl is 30)
ip netns exec client ping -c 1 -W 1 10.1.0.1
