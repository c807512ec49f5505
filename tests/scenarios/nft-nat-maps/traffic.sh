# 2000: anonymous address . port map (server:8080); 2001 and 2004: the named map @ports (8081; 8080, an
# element added by command); 2002: address from a map, port 9000 after it; 2003: no element (the
# router's own closed port: RST); a ping to the server, SNATed through @sources
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2000,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2001,connect-timeout=2,sourceport=40002 -
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2002,connect-timeout=2,sourceport=40003 -
sleep 0.3
ip netns exec client socat - TCP:10.1.0.1:2003,connect-timeout=1,sourceport=40004 </dev/null || true
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2004,connect-timeout=2,sourceport=40005 -
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.2.0.2
