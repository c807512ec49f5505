# ARP resolution for the host, then ND for the host's global address
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -6 -c 1 -W 1 2001:db8:1::1
sleep 0.3
# crafted: a request for an address the host does not have, a gratuitous ARP, a request from the
# filtered address, a request for the host's address on the wrong subnet's sender
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:01:02', psrc='10.1.0.2', pdst='10.1.0.99')" \
  "Ether(src='02:00:00:00:01:02', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:01:02', psrc='10.1.0.2', pdst='10.1.0.2')" \
  "Ether(src='02:00:00:00:01:66', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:01:66', psrc='10.1.0.66', pdst='10.1.0.1')" \
  "Ether(src='02:00:00:00:01:77', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:01:77', psrc='192.168.77.7', pdst='10.1.0.1')"
# crafted: a neighbour solicitation for an address the host does not have
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='33:33:ff:00:00:99')/IPv6(src='2001:db8:1::2', dst='ff02::1:ff00:99', hlim=255)/ICMPv6ND_NS(tgt='2001:db8:1::99')/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:01:02')"
