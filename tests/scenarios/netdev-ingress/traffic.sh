ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.66 10.1.0.1 || true
sleep 0.3
ip netns exec client ping -c 1 -W 1 -t 1 -I 10.1.0.2 10.1.0.1 || true
