# the client reaches both containers
ip netns exec client ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.0.0.3:80,connect-timeout=2,sourceport=44001 -
sleep 0.3
# c1 to c2: its ARP request goes out of eth0 only (never to c2); unanswered
ip netns exec c1 ping -c 1 -W 1 10.0.0.3 || true
sleep 0.3
# c1 to c2's MAC, known statically: out of eth0 to the client, which drops it (not its MAC)
ip netns exec c1 ping -c 1 -W 1 10.0.0.4 || true
