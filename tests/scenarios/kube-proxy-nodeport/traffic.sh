# from outside: the NodePort (DNAT to p1, masqueraded to the node's cni0 address), then a port that
# is no NodePort (the node answers RST); from p3: service a, then service b twice (nth: p1, then p2)
ip netns exec client socat -u -T 2 TCP:192.168.1.1:30080,connect-timeout=2,sourceport=41001 -
sleep 0.3
ip netns exec client socat - TCP:192.168.1.1:30081,connect-timeout=1,sourceport=41002 </dev/null || true
sleep 0.3
ip netns exec p3 socat -u -T 2 TCP:10.96.0.10:80,connect-timeout=2,sourceport=42001 -
sleep 0.3
ip netns exec p3 socat -u -T 2 TCP:10.96.0.20:80,connect-timeout=2,sourceport=42002 -
sleep 0.3
ip netns exec p3 socat -u -T 2 TCP:10.96.0.20:80,connect-timeout=2,sourceport=42003 -
