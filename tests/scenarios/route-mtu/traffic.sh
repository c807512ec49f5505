# Crafted from the client (its own path MTU cache stays empty): echo requests of 1450 and 1400 bytes
# in all, with and without DF, and IPv6 ones of 1450 and 1400 bytes.
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')"
P1422="Raw(b'x'*1422)"
P1372="Raw(b'x'*1372)"
P1322="Raw(b'x'*1322)"
# route mtu 1400: DF 1450 -> frag needed (mtu 1400); non-DF 1450 -> two fragments; DF 1400 fits
# route mtu lock 1300: DF 1350 -> frag needed (mtu 1300)
ip netns exec client sendframe eth0 \
  "$E/IP(src='10.1.0.2', dst='10.3.0.2', id=7001, flags='DF')/ICMP(id=71, seq=1)/$P1422" \
  "$E/IP(src='10.1.0.2', dst='10.3.0.2', id=7002)/ICMP(id=72, seq=1)/$P1422" \
  "$E/IP(src='10.1.0.2', dst='10.3.0.2', id=7003, flags='DF')/ICMP(id=73, seq=1)/$P1372" \
  "$E/IP(src='10.1.0.2', dst='10.4.0.2', id=7004, flags='DF')/ICMP(id=74, seq=1)/$P1322" \
  "$E/IP(src='10.1.0.2', dst='10.4.0.2', id=7005, flags='DF')/ICMP(id=75, seq=1)/Raw(b'x'*1200)"
sleep 0.3
# IPv6 route mtu 1400: 1450 bytes -> packet too big (mtu 1400); 1400 bytes fit
ip netns exec client sendframe eth0 \
  "$E/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2')/ICMPv6EchoRequest(id=76, seq=1, data=b'x'*1402)" \
  "$E/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2')/ICMPv6EchoRequest(id=77, seq=1, data=b'x'*1352)"
sleep 0.3
# echo requests to the router from the client's second prefix: the replies go back over a route with
# mtu 1280 and leave as fragments (IPv4 echo replies are sent without DF; IPv6 fragments at the source)
ip netns exec client sendframe eth0 \
  "$E/IP(src='10.5.0.2', dst='10.1.0.1', id=7008)/ICMP(id=78, seq=1)/$P1372" \
  "$E/IPv6(src='2001:db8:5::2', dst='2001:db8:1::1')/ICMPv6EchoRequest(id=79, seq=1, data=b'x'*1352)"
