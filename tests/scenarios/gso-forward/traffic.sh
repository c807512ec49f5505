# UDP_SEGMENT sends of 4 x 1472 bytes (one GSO skb each; 1500-byte segments) to 10.2.0.3: with DF
# clear the router segments the packet and fragments every segment for its 1400 link
# (ip_finish_output_gso); with DF set it answers ICMP frag needed (mtu 1400). A third DF send would
# fail in the client itself (EMSGSIZE: it has learnt the path MTU), so there is none.
here=$(dirname "$0")
ip netns exec client python3 "$here/udpgso.py" 10.2.0.3 6001 1472 4 dont
sleep 0.3
ip netns exec client python3 "$here/udpgso.py" 10.2.0.3 6001 1472 4 do
sleep 0.3
# 200 kB over TCP to 10.2.0.2: the server's MSS is 1460, so the client's first TSO frame carries
# 1448-byte segments that do not fit the 1400 link (DF: ICMP frag needed); it then sends segments
# of 1348 bytes (path MTU 1400) in super-frames the router forwards whole, segmented on eth1.
head -c 200000 /dev/zero | ip netns exec client socat -u -T 3 - TCP:10.2.0.2:5001,sourceport=40001,connect-timeout=2
sleep 0.5
