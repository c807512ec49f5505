# crafted one at a time (sendframe pauses 0.3 s after each); the client and the server have no GRE
# or ESP handler, so each answers what reaches it with ICMP protocol unreachable (related)
C="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='203.0.113.53'"
S="Ether(src='02:00:00:00:02:02', dst='02:00:00:00:02:01')/IP(src='203.0.113.53', dst='203.0.113.1'"
# GRE version 0: new (masqueraded), the server's GRE back (established), the client's again (assured)
ip netns exec client sendframe eth0 "$C, id=501, proto=47)/Raw(b'\x00\x00\x08\x00gre0')"
ip netns exec server sendframe eth0 "$S, id=502, proto=47)/Raw(b'\x00\x00\x08\x00gre0')"
ip netns exec client sendframe eth0 "$C, id=503, proto=47)/Raw(b'\x00\x00\x08\x00gre0')"
# PPTP's enhanced GRE (version 1, PPP inside, call id 0x1234): a connection of its own
ip netns exec client sendframe eth0 "$C, id=504, proto=47)/Raw(b'\x30\x81\x88\x0b\x00\x04\x12\x34\x00\x00\x00\x01pptp')"
# version 1 carrying IPv4 instead of PPP: no tuple, invalid, dropped by the forward policy
ip netns exec client sendframe eth0 "$C, id=505, proto=47)/Raw(b'\x30\x81\x08\x00\x00\x04\x12\x35\x00\x00\x00\x01bad!')"
# ESP: the generic tracker, and the server's ESP back
ip netns exec client sendframe eth0 "$C, id=506, proto=50)/Raw(b'\x00\x00\x10\x01\x00\x00\x00\x01esp!')"
ip netns exec server sendframe eth0 "$S, id=507, proto=50)/Raw(b'\x00\x00\x20\x02\x00\x00\x00\x01esp!')"
