# c1 to c2 through the hairpin switch: ARP (the broadcast comes back too) and ping
ip netns exec c1 ping -c 1 -W 1 10.0.0.3
sleep 0.3
# the client to c1
ip netns exec client ping -c 1 -W 1 10.0.0.2
