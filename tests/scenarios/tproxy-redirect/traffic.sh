# a connection to 198.51.100.10:80, answered by the transparent listener as 198.51.100.10
ip netns exec client socat -u -T 2 TCP:198.51.100.10:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
# to port 81: the listener is not transparent, the SYN is routed as it is (no route)
ip netns exec client socat -u -T 1 TCP:198.51.100.10:81,connect-timeout=1,sourceport=40002 - || true
sleep 0.3
# UDP to 198.51.100.10:53, taken by the transparent UDP socket on 5353
ip netns exec client socat -u - UDP:198.51.100.10:53,sourceport=40003 <<<"query"
sleep 0.3
# the router's own port 9000, served as uid 1000
ip netns exec client socat -u -T 2 TCP:10.1.0.1:9000,connect-timeout=2,sourceport=40004 -
