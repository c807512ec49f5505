# Crafted segments in rounds, one round per side (sendframe pauses 0.3 s after each frame). Flow N is
# client port N -> server port 80; the client's sequence numbers start at 1000, the server's at 5000,
# window 8192 without options, every segment in window.
C="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2')"
S="Ether(src='02:00:00:00:02:02', dst='02:00:00:00:02:01')/IP(src='10.2.0.2', dst='10.1.0.2')"
c() { echo "$C/TCP(sport=$1, dport=80, flags='$2', seq=$3, ack=$4, window=8192)"; }
s() { echo "$S/TCP(sport=80, dport=$1, flags='$2', seq=$3, ack=$4, window=8192)"; }

# 1: the client's SYNs (SYN_SENT, UNREPLIED); 1016: a SYN-ACK cannot open a flow (invalid, dropped)
ip netns exec client sendframe eth0 \
    "$(c 1001 S 1000 0)" "$(c 1002 S 1000 0)" "$(c 1003 S 1000 0)" "$(c 1004 S 1000 0)" "$(c 1005 S 1000 0)" \
    "$(c 1006 S 1000 0)" "$(c 1007 S 1000 0)" "$(c 1008 S 1000 0)" "$(c 1009 S 1000 0)" "$(c 1010 S 1000 0)" \
    "$(c 1011 S 1000 0)" "$(c 1012 S 1000 0)" "$(c 1013 S 1000 0)" "$(c 1014 S 1000 0)" "$(c 1015 S 1000 0)" \
    "$(c 1017 S 1000 0)" "$(c 1018 S 1000 0)" "$(c 1016 SA 1000 5001)"
# 2: the server: 1001 a SYN of its own (simultaneous open: SYN_SENT2), 1010 a RST answering the SYN
# (the entry is removed), the others a SYN-ACK (SYN_RECV)
ip netns exec server sendframe eth0 \
    "$(s 1001 S 5000 0)" "$(s 1002 SA 5000 1001)" "$(s 1003 SA 5000 1001)" "$(s 1004 SA 5000 1001)" \
    "$(s 1005 SA 5000 1001)" "$(s 1006 SA 5000 1001)" "$(s 1007 SA 5000 1001)" "$(s 1008 SA 5000 1001)" \
    "$(s 1009 SA 5000 1001)" "$(s 1010 RA 0 1001)" "$(s 1012 SA 5000 1001)" "$(s 1013 SA 5000 1001)" \
    "$(s 1014 SA 5000 1001)" "$(s 1017 SA 5000 1001)" "$(s 1018 SA 5000 1001)"
# 3: the client's ACKs (ESTABLISHED, ASSURED); 1012 retransmits its SYN in SYN_RECV (ignored);
# 1015 an ACK in SYN_SENT (invalid, dropped)
ip netns exec client sendframe eth0 \
    "$(c 1003 A 1001 5001)" "$(c 1004 A 1001 5001)" "$(c 1005 A 1001 5001)" "$(c 1006 A 1001 5001)" \
    "$(c 1007 A 1001 5001)" "$(c 1008 A 1001 5001)" "$(c 1013 A 1001 5001)" "$(c 1014 A 1001 5001)" \
    "$(c 1017 A 1001 5001)" "$(c 1018 A 1001 5001)" "$(c 1012 S 1000 0)" "$(c 1015 A 1001 5001)"
# 4: the server retransmits its SYN-ACK in ESTABLISHED (1013: ignored) and closes first on 1014 (FIN_WAIT)
ip netns exec server sendframe eth0 "$(s 1013 SA 5000 1001)" "$(s 1014 FA 5001 1001)"
# 5: the client closes 1004-1007 and 1018 (FIN_WAIT)
ip netns exec client sendframe eth0 \
    "$(c 1004 FA 1001 5001)" "$(c 1005 FA 1001 5001)" "$(c 1006 FA 1001 5001)" "$(c 1007 FA 1001 5001)" \
    "$(c 1018 FA 1001 5001)"
# 6: the server acknowledges the FIN of 1005 (CLOSE_WAIT) and answers 1006 and 1007 with its own FIN (LAST_ACK)
ip netns exec server sendframe eth0 "$(s 1005 A 5001 1002)" "$(s 1006 FA 5001 1002)" "$(s 1007 FA 5001 1002)" \
    "$(s 1018 FA 5001 1002)"
# 7: UDP whose length field says 100 bytes for 16 (udp_error: invalid), 4 (below the header: invalid),
# 12 for 16 (shorter than the packet: valid; the server trims it and answers port unreachable)
ip netns exec client sendframe eth0 \
    "$C/UDP(sport=2001, dport=5353, len=100, chksum=0)/Raw(b'abcdefgh')" \
    "$C/UDP(sport=2002, dport=5353, len=4, chksum=0)/Raw(b'abcdefgh')" \
    "$C/UDP(sport=2003, dport=5353, len=12, chksum=0)/Raw(b'abcdefgh')"
# 8: the client's final ACK on 1007 and 1018 (TIME_WAIT), a retransmitted SYN on 1011 (SYN_SENT, not renewed)
ip netns exec client sendframe eth0 "$(c 1007 A 1002 5002)" "$(c 1018 A 1002 5002)" "$(c 1011 S 1000 0)"
# 9: last (CLOSE lasts 10 s): the server resets 1017 (CLOSE) and sends a FIN in CLOSE (no FIN_WAIT: the
# close was never initiated)
ip netns exec server sendframe eth0 "$(s 1017 RA 5001 1001)" "$(s 1017 FA 5001 1001)"
# 10: new SYNs from the client on 1018 (TIME_WAIT after its own FIN: the entry is replaced) and on 1017
# (CLOSE by the server's RST, no close initiated: ignored, the entry stays); RSTs in ESTABLISHED (1008)
# and SYN_RECV (1009): CLOSE
ip netns exec client sendframe eth0 "$(c 1018 S 3000 0)" "$(c 1017 S 3000 0)" "$(c 1008 R 1001 0)" "$(c 1009 R 1001 0)"
