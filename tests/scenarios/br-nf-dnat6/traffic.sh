ip netns exec c1 ping -6 -c 2 -i 0.3 -W 1 2001:db8::4
sleep 0.3
ip netns exec c1 ping -6 -c 1 -W 1 2001:db8::2
sleep 0.3
ip netns exec c1 ping -c 2 -i 0.3 -W 1 10.9.0.2
