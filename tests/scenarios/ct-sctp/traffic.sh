# Crafted one at a time (sendframe pauses 0.3 s after each). The client's tag is 0x0a0a0a0a, the
# server's 0x0b0b0b0b; scapy computes each CRC32c unless one is given.
C="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='203.0.113.53'"
S="Ether(src='02:00:00:00:02:02', dst='02:00:00:00:02:01')/IP(src='203.0.113.53', dst='203.0.113.1'"
CS="$C, id=1)/SCTP(sport=5000, dport=3868"
SS="$S, id=2)/SCTP(sport=3868, dport=5000"
# association setup: INIT (CLOSED, 10 s), INIT_ACK (COOKIE_WAIT, 3 s), COOKIE_ECHO (COOKIE_ECHOED),
# COOKIE_ACK (ESTABLISHED, 210 s, assured), then DATA and its SACK
ip netns exec client sendframe eth0 "$CS, tag=0)/SCTPChunkInit(init_tag=0x0a0a0a0a, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)"
ip netns exec server sendframe eth0 "$SS, tag=0x0a0a0a0a)/SCTPChunkInitAck(init_tag=0x0b0b0b0b, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=100)"
ip netns exec client sendframe eth0 "$CS, tag=0x0b0b0b0b)/SCTPChunkCookieEcho(cookie=b'cookie-0123')"
ip netns exec server sendframe eth0 "$SS, tag=0x0a0a0a0a)/SCTPChunkCookieAck()"
ip netns exec client sendframe eth0 "$CS, tag=0x0b0b0b0b)/SCTPChunkData(tsn=1, stream_id=0, stream_seq=0, data=b'hello')"
ip netns exec server sendframe eth0 "$SS, tag=0x0a0a0a0a)/SCTPChunkSACK(cumul_tsn_ack=1, a_rwnd=65535)"
# out of state, from the server: a wrong verification tag, the client's tag in the reply direction,
# a bad CRC32c (checked at prerouting), a COOKIE_ACK that opens nothing (out of the blue), an INIT
# whose own tag is not 0: all invalid, so never NATed, and dropped by the host's input chain
ip netns exec server sendframe eth0 "$SS, tag=0xdeadbeef)/SCTPChunkData(tsn=101, stream_id=0, stream_seq=0, data=b'wrong tag')"
ip netns exec server sendframe eth0 "$SS, tag=0x0b0b0b0b)/SCTPChunkData(tsn=101, stream_id=0, stream_seq=0, data=b'their tag')"
ip netns exec server sendframe eth0 "$SS, tag=0x0a0a0a0a, chksum=0x12345678)/SCTPChunkData(tsn=101, stream_id=0, stream_seq=0, data=b'bad crc')"
ip netns exec server sendframe eth0 "$S, id=3)/SCTP(sport=3999, dport=3868, tag=0x01020304)/SCTPChunkCookieAck()"
ip netns exec server sendframe eth0 "$S, id=4)/SCTP(sport=3998, dport=3868, tag=0x01020304)/SCTPChunkInit(init_tag=0x0d0d0d0e, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=1)"
# the server opens an association to the host's port 3868, forwarded to the client's 3869
ip netns exec server sendframe eth0 "$S, id=5)/SCTP(sport=6000, dport=3868, tag=0)/SCTPChunkInit(init_tag=0x0d0d0d0d, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=7)"
ip netns exec client sendframe eth0 "$C, id=6)/SCTP(sport=3869, dport=6000, tag=0x0d0d0d0d)/SCTPChunkInitAck(init_tag=0x0e0e0e0e, a_rwnd=65535, n_out_streams=1, n_in_streams=1, init_tsn=9)"
ip netns exec server sendframe eth0 "$S, id=7)/SCTP(sport=6000, dport=3868, tag=0x0e0e0e0e)/SCTPChunkCookieEcho(cookie=b'cookie-4567')"
ip netns exec client sendframe eth0 "$C, id=8)/SCTP(sport=3869, dport=6000, tag=0x0d0d0d0d)/SCTPChunkCookieAck()"
ip netns exec server sendframe eth0 "$S, id=9)/SCTP(sport=6000, dport=3868, tag=0x0e0e0e0e)/SCTPChunkData(tsn=7, stream_id=0, stream_seq=0, data=b'forwarded')"
# a HEARTBEAT opens a flow of its own (HEARTBEAT_SENT, 30 s); its HEARTBEAT_ACK makes it ESTABLISHED
ip netns exec client sendframe eth0 "$C, id=10)/SCTP(sport=5002, dport=3868, tag=0x0c0c0c0c)/SCTPChunkHeartbeatReq()"
ip netns exec server sendframe eth0 "$S, id=11)/SCTP(sport=3868, dport=5002, tag=0x0f0f0f0f)/SCTPChunkHeartbeatAck()"
# DCCP (protocol 33): no tracker of its own in 6.18, keyed by addresses alone (generic)
ip netns exec client sendframe eth0 "$C, id=12, proto=33)/Raw(b'\x1b\x58\x1b\x59\x04\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01')"
ip netns exec server sendframe eth0 "$S, id=13, proto=33)/Raw(b'\x1b\x59\x1b\x58\x04\x00\x00\x00\x00\x02\x00\x01\x00\x00\x00\x02')"
# the first association shuts down: SHUTDOWN_SENT, SHUTDOWN_ACK_SENT, CLOSED (10 s)
ip netns exec client sendframe eth0 "$CS, tag=0x0b0b0b0b)/SCTPChunkShutdown(cumul_tsn_ack=100)"
ip netns exec server sendframe eth0 "$SS, tag=0x0a0a0a0a)/SCTPChunkShutdownAck()"
ip netns exec client sendframe eth0 "$CS, tag=0x0b0b0b0b)/SCTPChunkShutdownComplete()"
