# Crafted UDP datagrams from the client to the server's discard port (no socket there: the server
# answers each whole datagram with ICMP port unreachable), some whole, some already fragmented;
# one sendframe, 0.3 s between frames, so that the run stays well inside the UDP conntrack timeout.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
A="src='10.1.0.2', dst='10.2.0.2'"
# the UDP datagram (header and payload, checksum over the whole) with sport S and N payload bytes
udp() { echo "raw(IP($A, proto=17)/UDP(sport=$1, dport=9)/Raw(bytes(range(256))*($2//256)+bytes($2%256)))[20:]"; }
# one fragment: id, flags, byte range [a:b) of the datagram
frag() { echo "$E/IP($A, id=$1, flags='$2', frag=$3//8, proto=17)/Raw(($4)[$3:$5])"; }
# 1400 bytes, DF clear, whole: ip_do_fragment's slow path for MTU 1280 (1256 + 124 payload bytes)
F+=("$E/IP($A, id=101, flags=0)/UDP(sport=40001, dport=9)/Raw(bytes(range(256))*5+bytes(92))")
# the same with options: router alert (copied into every fragment) and an unknown option 30 (not copied)
F+=("$E/IP($A, id=102, flags=0, options=[IPOption_Router_Alert(), IPOption(b'\x1e\x04\xab\xcd')])/UDP(sport=40002, dport=9)/Raw(bytes(range(256))*5+bytes(84))")
# 3000 bytes whole, TTL 9: three fragments
F+=("$E/IP($A, id=103, flags=0, ttl=9)/UDP(sport=40003, dport=9)/Raw(bytes(range(256))*11+bytes(164))")
# DF set, 1400 bytes: ICMP fragmentation needed (mtu 1280)
F+=("$E/IP($A, id=104, flags='DF')/UDP(sport=40004, dport=9)/Raw(bytes(range(256))*5+bytes(92))")
# already fragmented at 1000 bytes (frag_max_size 1004 < 1280): reassembled by conntrack and sent
# again along the boundaries it arrived in (the frag_list fast path)
D=$(udp 40005 1992)
F+=("$(frag 105 MF 0 "$D" 984)" "$(frag 105 MF 984 "$D" 1968)" "$(frag 105 "" 1968 "$D" 2000)")
# uneven fragments of 500, 1004 and 556 bytes: still the arrival boundaries
D=$(udp 40006 1992)
F+=("$(frag 106 MF 0 "$D" 480)" "$(frag 106 MF 480 "$D" 1464)" "$(frag 106 "" 1464 "$D" 2000)")
# fragments of 1400 bytes (larger than MTU 1280), the last one first: the slow path at 1280
D=$(udp 40007 2392)
F+=("$(frag 107 "" 1376 "$D" 2400)" "$(frag 107 MF 0 "$D" 1376)")
# DF fragments of 1000 bytes: reassembled with DF (the largest fragment had it), forwarded, and
# sent along the arrival boundaries
D=$(udp 40008 1992)
F+=("$(frag 108 DF+MF 0 "$D" 984)" "$(frag 108 DF+MF 984 "$D" 1968)" "$(frag 108 DF 1968 "$D" 2000)")
# DF fragments of 1400 bytes: the original fragments exceed the MTU: ICMP fragmentation needed
D=$(udp 40009 2392)
F+=("$(frag 109 DF+MF 0 "$D" 1376)" "$(frag 109 DF 1376 "$D" 2400)")
ip netns exec client sendframe eth0 "${F[@]}"
