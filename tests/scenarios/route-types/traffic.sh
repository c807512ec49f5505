ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.9.4.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.3 10.9.1.1 || true
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.4 10.9.2.1 || true
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.5 10.9.3.1 || true
sleep 0.3
ip netns exec client ping -c 1 -W 1 -I 10.1.0.6 10.99.0.1 || true
