# send COUNT datagrams of SIZE bytes of payload to PORT from SRC:SPORT, back to back
burst() { ip netns exec client /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
for _ in range(int(sys.argv[5])): s.sendto(b'x' * int(sys.argv[4]), ('10.1.0.1', int(sys.argv[3])))
" "$@"; }
# ARP first (counted by the named counter map)
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
# named limit 2/second burst 2: 2 pass, 2 dropped
burst 10.1.0.2 40001 5001 100 4
sleep 0.3
# the quota qa (256 bytes) named directly: 128 bytes used, accepted
burst 10.1.0.2 40010 5010 100 1
sleep 0.3
# qa through the map (5002): the 1st uses it exactly and passes, the rest are over (dropped)
burst 10.1.0.2 40002 5002 100 3
sleep 0.3
# qover (over 300 bytes) through the map (5003): 128 and 256 are not over (dropped), 384 and 512 are (accepted)
burst 10.1.0.2 40003 5003 100 4
sleep 0.3
# the map remembers each source's mark: 7 for port 40004, 9 for 40014
burst 10.1.0.2 40004 5004 10 1
burst 10.1.0.2 40014 5004 10 1
sleep 0.3
# read back: mark 7 accepted, mark 9 dropped, no element (mark 0) dropped
burst 10.1.0.2 40004 5006 10 1
burst 10.1.0.2 40014 5006 10 1
burst 10.1.0.2 40024 5006 10 1
sleep 0.3
# ether saddr vmap: the client's MAC is dropped
burst 10.1.0.2 40007 5007 10 1
sleep 0.3
# iifname vmap: eth0 accepted; from the second address (the other named counter)
burst 10.1.0.3 40008 5008 10 2
