# ping through the router (allowed, replies are established)
ip netns exec client ping -c 2 -i 0.3 -W 1 10.2.0.2
sleep 0.3
# TCP to the server's port 80 (allowed), a whole connection
ip netns exec client socat -u -T 2 TCP:10.2.0.2:80,connect-timeout=2,sourceport=40001 -
sleep 0.5
# TCP to port 22: the SYN is dropped by the policy, the client retries once within 1.5 s
ip netns exec client socat - TCP:10.2.0.2:22,connect-timeout=1.5,sourceport=40002 </dev/null || true
sleep 0.3
# UDP to the server: dropped by the policy
ip netns exec client socat -u - UDP:10.2.0.2:53,sourceport=40003 <<<"query"
sleep 0.3
# ping the router itself: local delivery (no input chain)
ip netns exec client ping -c 1 -W 1 10.1.0.1
