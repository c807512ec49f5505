# send COUNT datagrams of SIZE bytes of payload to PORT from source port SPORT, back to back
burst() { ip netns exec client /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.1.0.2', int(sys.argv[1])))
for _ in range(int(sys.argv[4])): s.sendto(b'x' * int(sys.argv[3]), ('10.1.0.1', int(sys.argv[2])))
" "$@"; }
# ARP first (and the named counter)
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
# packet limit 2/s burst 3: 3 pass, 3 dropped; 1.2 s later 2 of 3 pass
burst 40001 5001 100 6
sleep 1.2
burst 40001 5001 100 3
sleep 0.3
# byte limit 1 kbytes/s burst 200 bytes: 328-byte packets, 3 pass, the 4th is dropped
burst 40005 5005 300 4
sleep 0.3
# named quota 256 bytes: 128-byte packets; the 2nd uses it exactly and passes, the 3rd and 4th are over (dropped)
burst 40002 5002 100 4
sleep 0.3
# quota over 200 bytes: 1st accepted, the rest dropped
burst 40003 5003 100 3
sleep 0.3
# dynamic set with a 1 s timeout: first accepted and remembered, the repeat dropped, after 1.3 s accepted
burst 40004 5004 10 2
sleep 1.3
burst 40004 5004 10 1
sleep 0.3
# knock: update @knocked refreshes a 1 s membership; 5007 accepted while a member
burst 40006 5006 10 1
sleep 0.3
burst 40007 5007 10 1
sleep 0.4
burst 40006 5006 10 1
sleep 0.7
# 1.4 s after the first knock, 0.7 s after the refresh: still a member
burst 40007 5007 10 1
sleep 0.3
# delete ends the membership
burst 40008 5008 10 1
sleep 0.3
burst 40007 5007 10 1
sleep 0.3
# numgen inc mod 3 0: the 1st and 4th dropped
burst 40009 5009 10 5
sleep 0.3
# iptables-nft: statistic nth --every 3 --packet 1 drops the 2nd and 5th; limit 2/sec burst 2
burst 40010 5010 10 5
sleep 0.3
burst 40011 5011 10 4
