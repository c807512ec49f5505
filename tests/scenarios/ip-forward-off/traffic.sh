ip netns exec a ping -c 1 -W 1 10.2.0.2 || true
sleep 0.3
# the host's address on the other LAN is local: answered
ip netns exec a ping -c 1 -W 1 10.2.0.1
sleep 0.3
ip netns exec a socat - TCP:10.2.0.2:80,connect-timeout=0.5,sourceport=40001 </dev/null || true
