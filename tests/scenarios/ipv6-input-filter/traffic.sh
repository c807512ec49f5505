ip netns exec client ping -6 -c 1 -W 1 2001:db8:1::1
sleep 0.3
ip netns exec client ping -6 -c 1 -W 1 fe80::ff:fe00:101%eth0
sleep 0.3
ip netns exec client socat -u -T 2 TCP6:[2001:db8:1::1]:22,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8:1::1]:80,connect-timeout=0.5,sourceport=40002 </dev/null || true
sleep 0.3
ip netns exec client socat -u - UDP6:[2001:db8:1::1]:53,sourceport=40003 <<<"query"
sleep 0.3
# a neighbour solicitation with hop limit 64 (crafted): ND must come with 255, so the filter drops it
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='33:33:ff:00:00:01')/IPv6(src='2001:db8:1::2', dst='ff02::1:ff00:1', hlim=64)/ICMPv6ND_NS(tgt='2001:db8:1::1')/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:01:02')"
