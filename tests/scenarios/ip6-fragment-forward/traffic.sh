# Crafted UDP datagrams from the client to the discard port of the server (behind MTU 1280) and of
# big (behind MTU 4000); no socket listens, so each whole datagram is answered with ICMPv6 port
# unreachable. One sendframe, 0.3 s between frames.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
S="src='2001:db8:1::2'"
# the datagram after the IPv6 header (upper headers, checksum over the whole): to $1, sport $2, $3 payload bytes
udp() { echo "raw(IPv6($S, dst='$1')/UDP(sport=$2, dport=9)/Raw(bytes(range(256))*($3//256)+bytes($3%256)))[40:]"; }
# the same with a destination options header (PadN) in front of UDP
dudp() { echo "raw(IPv6($S, dst='$1')/IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\x00\x00\x00\x00')])/UDP(sport=$2, dport=9)/Raw(bytes(range(256))*($3//256)+bytes($3%256)))[40:]"; }
# one fragment to $1: id $2, next header $3, M flag $4, bytes [$5:$7) of datagram $6
frag() { echo "$E/IPv6($S, dst='$1')/IPv6ExtHdrFragment(nh=$3, id=$2, m=$4, offset=$5//8)/Raw(($6)[$5:$7])"; }
SV=2001:db8:2::2
BG=2001:db8:3::2
# whole, 1440 bytes, for MTU 1280: a router never fragments: packet too big (mtu 1280)
F+=("$E/IPv6($S, dst='$SV')/UDP(sport=40001, dport=9)/Raw(bytes(range(256))*5+bytes(112))")
# fragments of 1000 bytes (frag_max_size 1000 < 1280): reassembled and sent again along the same boundaries
D=$(udp $SV 40002 1992)
F+=("$(frag $SV 201 17 1 0 "$D" 952)" "$(frag $SV 201 17 1 952 "$D" 1904)" "$(frag $SV 201 17 0 1904 "$D" 2000)")
# uneven fragments of 544, 1000 and 600 bytes
D=$(udp $SV 40003 1992)
F+=("$(frag $SV 202 17 1 0 "$D" 496)" "$(frag $SV 202 17 1 496 "$D" 1448)" "$(frag $SV 202 17 0 1448 "$D" 2000)")
# fragments of 1400 bytes for MTU 1280: packet too big (ip6_pkt_too_big weighs frag_max_size)
D=$(udp $SV 40004 1992)
F+=("$(frag $SV 203 17 1 0 "$D" 1352)" "$(frag $SV 203 17 0 1352 "$D" 2000)")
# the same for MTU 4000: the 2040-byte datagram fits but leaves as fragments of at most 1400 bytes
D=$(udp $BG 40005 1992)
F+=("$(frag $BG 204 17 1 0 "$D" 1352)" "$(frag $BG 204 17 0 1352 "$D" 2000)")
# the last fragment first, fragments of 600 and 1000 bytes, for MTU 4000
D=$(udp $BG 40006 1992)
F+=("$(frag $BG 205 17 0 1504 "$D" 2000)" "$(frag $BG 205 17 1 0 "$D" 552)" "$(frag $BG 205 17 1 552 "$D" 1504)")
# a destination options header after the fragment header: after reassembly ip6_find_1stfragopt counts
# it in the unfragmentable part, copied into every fragment
D=$(dudp $SV 40007 1992)
F+=("$(frag $SV 206 60 1 0 "$D" 952)" "$(frag $SV 206 60 1 952 "$D" 1904)" "$(frag $SV 206 60 0 1904 "$D" 2008)")
ip netns exec client sendframe eth0 "${F[@]}"
