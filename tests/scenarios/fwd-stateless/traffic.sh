ip netns exec client ping -c 2 -i 0.3 -W 1 10.2.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.2.0.2:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
# port 81 has a listener but the filter has no rule for it: the SYN is dropped
ip netns exec client socat - TCP:10.2.0.2:81,connect-timeout=0.5,sourceport=40002 </dev/null || true
sleep 0.3
# the server pings the client: its echo request comes in on eth1, which only allows replies
ip netns exec server ping -c 1 -W 1 10.1.0.2 || true
