# three echo requests 100 ms apart to a next hop that never answers (-c without -w: exactly
# three): all three wait in the neighbour's queue, the router sends 2 ARP requests 400 ms apart,
# then fails the entry: every queued packet is dropped (NEIGH_FAILED) and gets an ICMP host unreachable
ip netns exec client ping -c 3 -i 0.1 -W 2 10.9.1.1 || true
sleep 1.5
# the entry is FAILED now: a new packet starts resolution again
ip netns exec client ping -c 1 -W 2 10.9.1.2 || true
sleep 1.5
# eth2's queue holds one packet at most: each echo request pushes out the one before it
# (NEIGH_QUEUEFULL, no ICMP); only the last one is there to be failed
ip netns exec client ping -c 3 -i 0.1 -W 2 10.9.2.1 || true
sleep 1.5
# IPv6: neighbour solicitations, then ICMPv6 address unreachable for each queued packet
ip netns exec client ping -6 -c 2 -i 0.1 -W 2 2001:db8:9::1 || true
