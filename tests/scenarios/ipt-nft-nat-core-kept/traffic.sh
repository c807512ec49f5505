socat TCP4-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hi' &
socat TCP6-LISTEN:8080,ipv6only=1,fork,reuseaddr SYSTEM:'echo hi' &
sleep 0.5
# 2180 -> 8080: the tie chains (before the nat cores) see 2180 and let it through; the listener answers
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2180,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec client socat -u -T 2 'TCP6:[2001:db8:1::1]:2180,connect-timeout=2,sourceport=40011' -
sleep 0.3
# 2181: dropped by the tie chains; crafted SYNs, so no client socket is left waiting
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=2181)/TCP(sport=40002, dport=2181, flags='S', seq=1000)"
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1')/TCP(sport=40012, dport=2181, flags='S', seq=3000)"
sleep 0.3
