# DF set, 1400 bytes: too big for eth1 -> ICMP fragmentation needed (mtu 1280)
ip netns exec client ping -c 1 -W 1 -s 1372 -M do 10.2.0.2 || true
sleep 0.3
# DF clear, 1400 bytes: the client has learnt the path MTU 1280 from the ICMP error and fragments
# it itself; the router's conntrack reassembles it (defrag) and fragments it again for eth1
ip netns exec client ping -c 1 -W 1 -s 1372 -M dont 10.2.0.2
sleep 0.3
# 2000 bytes from the server side too: the reply is fragmented by the server, reassembled by the
# router and sent on as fragments of the sizes it arrived in
ip netns exec client ping -c 1 -W 1 -s 1972 -M dont 10.2.0.2
