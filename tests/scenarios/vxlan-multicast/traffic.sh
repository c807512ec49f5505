# the host pings node2 across the overlay: the ARP request goes to the group, node2 learns the host's
# MAC at 192.168.61.1 and answers unicast, the echo goes unicast once the host learned node2's MAC;
# then an echo to 10.10.0.7 (a MAC no FDB entry has: unknown unicast, to the group; node2's vx0 gets
# it as PACKET_OTHERHOST) and one to 10.10.0.9 (ARP requests to the group, unanswered)
ping -c 1 -W 2 10.10.0.2
sleep 0.3
ping -c 1 -W 1 10.10.0.7 || true
sleep 0.3
ip netns exec node2 ping -c 1 -W 1 10.10.0.9 || true
