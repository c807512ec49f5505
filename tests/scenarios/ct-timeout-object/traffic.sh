socat UDP-RECVFROM:7000,fork SYSTEM:cat &
socat UDP-RECVFROM:7003,fork SYSTEM:cat &
socat TCP-LISTEN:22,reuseaddr SYSTEM:cat &
sleep 0.3
# UDP 7000 with the policy: unreplied 30 (the kernel's default, not the sysctl's 33), then, answered
# for 2 s, replied 70 and assured
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
sleep 2.5
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
# 7001: set before conntrack (no entry yet); 7002: a tcp policy for a udp packet; both keep the sysctl 33
echo x | timeout 2 ip netns exec client socat -t 0.2 - UDP:10.1.0.1:7001,sourceport=41001 || true
echo x | timeout 2 ip netns exec client socat -t 0.2 - UDP:10.1.0.1:7002,sourceport=41002 || true
# 7003: the rule matches only once the flow is established (confirmed): nothing changes, stream 120
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7003,sourceport=41003
sleep 2.5
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7003,sourceport=41003
# TCP 23: no listener and the RST is dropped before conntrack: SYN_SENT with the policy's 55 s
timeout 2 ip netns exec client socat -T 1.5 - TCP:10.1.0.1:23,sourceport=42300 </dev/null || true
# TCP 22 held open past the listing: ESTABLISHED with the policy's 100 s
(echo hello; sleep 40) | timeout 45 ip netns exec client socat - TCP:10.1.0.1:22,sourceport=42200 >/dev/null &
sleep 1
