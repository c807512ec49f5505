# 2000: dropped by group and type; 2001: passes (the server's closed port: RST); 2002: dropped by the
# raw @th read of its MSS option; 2003: dropped after the clock check; each dropped SYN is sent once (connect-timeout
# below the 1 s retransmission). UDP "AB" dropped by @ih, UDP "ZZ" sent with TTL 20 dropped by @nh (below
# 32), UDP "ZZ" with the default TTL passes (closed port: ICMP port unreachable back). A ping first
# (it passes, and resolves the neighbours on both links).
ip netns exec client ping -c 1 -W 2 10.2.0.2
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:2000,connect-timeout=0.5,sourceport=41000 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:2001,connect-timeout=0.5,sourceport=41001 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:2002,connect-timeout=0.5,sourceport=41002 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:2003,connect-timeout=0.5,sourceport=41003 </dev/null || true
sleep 0.3
echo -n AB | ip netns exec client socat -u - UDP:10.2.0.2:3000,sourceport=42000
sleep 0.3
echo -n ZZ | ip netns exec client socat -u - UDP:10.2.0.2:3000,sourceport=42001,ttl=20
sleep 0.3
echo -n ZZ | ip netns exec client socat -u - UDP:10.2.0.2:3000,sourceport=42002
