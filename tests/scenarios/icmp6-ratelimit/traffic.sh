# Bursts of crafted IPv6 frames against the three routers' ICMPv6 rate limits (lab.sh). sendframe
# --gap 0 sends a burst back to back (a few ms in all: the buckets refill nothing to speak of, so
# the counts do not depend on how busy the machine is); it takes about a second to start, so the
# buckets a step drew on have refilled by the next.
# 1-3. nine datagrams to a closed port of the host from each of three sources whose routes back are
#    a /64, a /128 and the default route: each bucket (150 jiffies, 25 a message) answers 6, not 3
ip netns exec client sendframe --gap 0 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41000, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41001, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41002, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41003, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41004, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41005, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41006, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41007, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41008, dport=9)/Raw(b'rate')"
sleep 0.3
ip netns exec client sendframe --gap 0 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41100, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41101, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41102, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41103, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41104, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41105, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41106, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41107, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41108, dport=9)/Raw(b'rate')"
sleep 0.3
ip netns exec client sendframe --gap 0 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41200, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41201, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41202, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41203, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41204, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41205, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41206, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41207, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:99::5', dst='2001:db8:1::1', hlim=64)/UDP(sport=41208, dport=9)/Raw(b'rate')"
sleep 0.3
# 4. ten from 2001:db8:1::4, 120 ms apart: more than a message's worth of tokens (25 jiffies)
#    accrues between them, all answered (a 1000 ms interval would answer 6)
ip netns exec client sendframe --gap 0.12 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41150, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41151, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41152, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41153, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41154, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41155, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41156, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41157, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41158, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::4', dst='2001:db8:1::1', hlim=64)/UDP(sport=41159, dport=9)/Raw(b'rate')"
sleep 1
# 5. from 2001:db8:1::2 again (its bucket full): six closed-port datagrams (answered), three with
#    hop limit 1 to 2001:db8:3::2 (time exceeded draws on the same, now empty bucket: none sent),
#    three of 1450 bytes for the 1400-byte link to r2 (packet too big is not in the host's ratemask:
#    all three sent)
ip netns exec client sendframe --gap 0 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41300, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41301, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41302, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41303, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41304, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:1::1', hlim=64)/UDP(sport=41305, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=1)/UDP(sport=41310, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=1)/UDP(sport=41311, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=1)/UDP(sport=41312, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41320, dport=9)/Raw(b'x' * 1402)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41321, dport=9)/Raw(b'x' * 1402)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41322, dport=9)/Raw(b'x' * 1402)"
sleep 0.3
# 6. r2 (ratemask 2-3,129; 2000 jiffies a message, burst 12000), 20 ms apart: eight datagrams to its
#    closed port (destination unreachable is not in its mask: all answered), eight of 1300 bytes for
#    its 1280-byte link to r3 (packet too big: 6 sent, 2 not), two with hop limit 2 (time exceeded: none)
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41400, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41401, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41402, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41403, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41404, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41405, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41406, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:12::2', hlim=64)/UDP(sport=41407, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41410, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41411, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41412, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41413, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41414, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41415, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41416, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=64)/UDP(sport=41417, dport=9)/Raw(b'x' * 1252)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=2)/UDP(sport=41420, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=2)/UDP(sport=41421, dport=33434)/Raw(b'rate')"
sleep 0.3
# 7. eight echo requests from 2001:db8:1::3 to r2 (echo replies in its mask: 6 answered) and
#    eight to the host (not in its mask: all answered)
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=1, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=2, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=3, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=4, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=5, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=6, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=7, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:12::2', hlim=64)/ICMPv6EchoRequest(id=7, seq=8, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=11, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=12, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=13, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=14, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=15, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=16, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=17, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::3', dst='2001:db8:1::1', hlim=64)/ICMPv6EchoRequest(id=7, seq=18, data=b'echo')"
sleep 0.3
# 8. r3, whose global credit never refills: hop limit 3 (time exceeded) and its closed port get
#    nothing, echo requests (not in its mask) are answered
ip netns exec client sendframe --gap 0.3 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=3)/UDP(sport=41500, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:3::2', hlim=3)/UDP(sport=41501, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:23::3', hlim=64)/UDP(sport=41510, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:23::3', hlim=64)/UDP(sport=41511, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:23::3', hlim=64)/ICMPv6EchoRequest(id=7, seq=21, data=b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IPv6(src='2001:db8:1::2', dst='2001:db8:23::3', hlim=64)/ICMPv6EchoRequest(id=7, seq=22, data=b'echo')"
