# The host pings with DF, learns the path MTU from the router's answer, and then answers and sends
# by it; forged errors from the router show which ones the host takes; at the end the exceptions
# have expired (mtu_expires 15 s in lab.sh).
E="Ether(src='02:00:00:00:01:01', dst='02:00:00:00:01:02')/IP(src='10.1.0.1', dst='10.1.0.2')"
E6="Ether(src='02:00:00:00:01:01', dst='02:00:00:00:01:02')/IPv6(src='2001:db8:1::1', dst='2001:db8:1::2')"
# 1. DF 1400 bytes to 10.3.0.2: r answers fragmentation needed (mtu 1280); ping's raw socket takes it
#    (raw_err -> ipv4_sk_update_pmtu): the host learns 1280 for 10.3.0.2
ping -c 1 -W 1 -M do -s 1372 10.3.0.2 || true
sleep 0.3
# 2. a 1400-byte echo request from 10.3.0.2: the host's echo reply leaves as fragments of 1280
ip netns exec far ping -c 1 -W 1 -I 10.3.0.2 -s 1372 10.1.0.2
sleep 0.3
# 3. the host's own ping without forcing DF (-M want) is fragmented by the host to 1280
ping -c 1 -W 1 -M want -s 1372 10.3.0.2
sleep 0.3
# 4. forged fragmentation needed from r, quoting what the host would have sent to 10.4.0.x:
#    UDP from a port without a socket (mtu 1300: udp_err finds no socket, nothing learned), an echo
#    reply (mtu 1300: icmp_err learns it without a socket), an echo reply with mtu 500 (below
#    min_pmtu 552: learned as 552, locked), an echo reply to 10.4.0.6, whose route has mtu lock
ip netns exec r sendframe eth0 \
  "$E/ICMP(type=3, code=4, nexthopmtu=1300)/IP(src='10.1.0.2', dst='10.4.0.3', id=8003, flags='DF', len=1400)/UDP(sport=40003, dport=9, len=1380)" \
  "$E/ICMP(type=3, code=4, nexthopmtu=1300)/IP(src='10.1.0.2', dst='10.4.0.4', id=8004, len=1400)/ICMP(type=0, id=84, seq=1)" \
  "$E/ICMP(type=3, code=4, nexthopmtu=500)/IP(src='10.1.0.2', dst='10.4.0.5', id=8005, len=1000)/ICMP(type=0, id=85, seq=1)" \
  "$E/ICMP(type=3, code=4, nexthopmtu=1300)/IP(src='10.1.0.2', dst='10.4.0.6', id=8006, len=1400)/ICMP(type=0, id=86, seq=1)"
sleep 0.3
# 5. echo requests from those addresses: the replies to 10.4.0.4 are cut at 1300, to 10.4.0.5 at 552,
#    to 10.4.0.3 and 10.4.0.6 sent whole
for a in 3 4 6; do ip netns exec far ping -c 1 -W 1 -I 10.4.0.$a -s 1372 10.1.0.2; sleep 0.3; done
ip netns exec far ping -c 1 -W 1 -I 10.4.0.5 -s 972 10.1.0.2
sleep 0.3
# 6. -M want with a locked path MTU (10.4.0.5) sends without DF; with an unlocked one (10.4.0.4) with DF
ping -c 1 -W 1 -M want -s 100 10.4.0.5
sleep 0.3
ping -c 1 -W 1 -M want -s 100 10.4.0.4
sleep 0.3
# 7. IPv6: 1448 bytes to 2001:db8:3::2, r answers packet too big (mtu 1280): icmpv6_err learns it
ping -6 -c 1 -W 1 -M do -s 1400 2001:db8:3::2 || true
sleep 0.3
# 8. a 1448-byte echo request from 2001:db8:3::2: the reply leaves as IPv6 fragments of 1280
ip netns exec far ping -6 -c 1 -W 1 -I 2001:db8:3::2 -s 1400 2001:db8:1::2
sleep 0.3
# 9. forged packet too big: quoting UDP without a socket (mtu 1300), an echo reply (mtu 1300),
#    an echo reply with mtu 1000 (below IPV6_MIN_MTU)
ip netns exec r sendframe eth0 \
  "$E6/ICMPv6PacketTooBig(mtu=1300)/IPv6(src='2001:db8:1::2', dst='2001:db8:4::3', plen=1408)/UDP(sport=40003, dport=9, len=1408)" \
  "$E6/ICMPv6PacketTooBig(mtu=1300)/IPv6(src='2001:db8:1::2', dst='2001:db8:4::4', plen=1408)/ICMPv6EchoReply(id=94, seq=1)" \
  "$E6/ICMPv6PacketTooBig(mtu=1000)/IPv6(src='2001:db8:1::2', dst='2001:db8:4::5', plen=1408)/ICMPv6EchoReply(id=95, seq=1)"
sleep 0.3
for a in 3 4 5; do ip netns exec far ping -6 -c 1 -W 1 -I 2001:db8:4::$a -s 1400 2001:db8:1::2; sleep 0.3; done
# 10. 16 s later every exception has expired: the replies to 10.3.0.2 and 2001:db8:3::2 leave whole
#     (r fragments the IPv4 one; the IPv6 one gets packet too big again and is lost)
sleep 16
ip netns exec far ping -c 1 -W 1 -I 10.3.0.2 -s 1372 10.1.0.2
sleep 0.3
ip netns exec far ping -6 -c 1 -W 1 -I 2001:db8:3::2 -s 1400 2001:db8:1::2 || true
