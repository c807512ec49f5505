# the client (a listed source) to c1: ARP, ping and TCP, each frame cloned to mv1
ip netns exec client ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=47001 -
sleep 0.3
# the client to the host: answered by the host; the clones mv1 gets are not for its MAC (OTHERHOST)
ip netns exec client ping -c 1 -W 1 10.0.0.1
sleep 0.3
# crafted: an echo request to mv1's MAC from a sender mv1 does not list: not cloned, and eth0's stack drops it
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:00:65', dst='02:42:0a:00:00:02')/IP(src='10.0.0.101', dst='10.0.0.2')/ICMP(id=8, seq=1)"
