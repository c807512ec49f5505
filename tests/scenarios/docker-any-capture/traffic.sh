# the published port, from outside: DNAT to c1:80 through the bridge
ip netns exec client socat -u -T 2 TCP:192.168.1.1:8080,connect-timeout=2,sourceport=41001 -
sleep 0.3
# a port that is not published: the host has no listener on 8081 (RST from the host)
ip netns exec client socat - TCP:192.168.1.1:8081,connect-timeout=2,sourceport=41002 </dev/null || true
sleep 0.3
# a container's own connection out to the client: masqueraded to 192.168.1.1
ip netns exec c2 socat -u -T 2 TCP:192.168.1.2:9000,connect-timeout=2,sourceport=42001 -
sleep 0.3
# the client tries to reach a container address directly: the forward policy drops it
ip netns exec client ping -c 1 -W 1 172.17.0.3 || true
