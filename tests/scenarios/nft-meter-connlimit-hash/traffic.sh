# send COUNT datagrams to PORT from SRC:SPORT, back to back
burst() { ip netns exec client /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
for _ in range(int(sys.argv[4])): s.sendto(b'x' * 20, ('10.1.0.1', int(sys.argv[3])))
" "$@"; }
# one datagram from each source port in turn, 0.2 s apart (nf_conncount walks its list once per jiffy at most)
each() { local src=$1 port=$2; shift 2; for sp in "$@"; do burst "$src" "$sp" "$port" 1; sleep 0.2; done; }
# ARP for both client addresses first
ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.1.0.1
ip netns exec client ping -c 1 -W 1 -I 10.1.0.3 10.1.0.1
sleep 0.3
# meter: a 1/second burst-2 bucket per source: 2 of 3 pass from each address
burst 10.1.0.2 40001 5001 3
burst 10.1.0.3 40001 5001 3
sleep 0.3
# dynset with limit over: the 3rd datagram of a source is over its own bucket (dropped)
burst 10.1.0.2 40002 5002 3
burst 10.1.0.3 40002 5002 1
sleep 0.3
# named limit lim1 (2/second burst 2) shared by the rules for 5003 and 5004: 5004's datagram finds it empty
burst 10.1.0.2 40003 5003 2
burst 10.1.0.2 40004 5004 1
sleep 1.2
# object map: 10.1.0.2 takes lim1 (refilled), 10.1.0.3 lim2 (burst 1)
burst 10.1.0.2 40009 5009 2
burst 10.1.0.3 40009 5009 2
sleep 0.3
# ct count over 2 (one list for the rule): new flows 1, 2 pass, 3 is dropped; the dropped flow stays
# listed until a walk reaches it, so 41001 again (its walk stops at itself) still counts 3
each 10.1.0.2 5005 41001 41002 41003 41001 41004 41002
sleep 0.3
# ct count per set element (over 1): each source may have one flow
each 10.1.0.2 5006 42001 42002
each 10.1.0.3 5006 42001 42002
sleep 0.3
# jhash of source address . source port with seed 0xcafe: accept or drop per flow
each 10.1.0.2 5007 43001 43002 43003 43004 43005 43006
each 10.1.0.3 5007 43001 43002 43003 43004
sleep 0.3
# jhash of the source port alone (2 bytes) mod 4 offset 10
each 10.1.0.2 5008 44001 44002 44003 44004 44005 44006 44007 44008
sleep 0.3
# DNAT by numgen inc through a map: new flows alternate between s1 (eth1) and s2 (eth2); a second
# datagram of a flow follows its connection's binding
each 10.1.0.2 7000 45001 45002 45003 45001 45004
