# Crafted packets from the client, one sendframe; what the server answers comes back through the router.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
A="src='10.1.0.2', dst='10.2.0.2'"
# @th,16,16 set 7002: the port written without a checksum fix, the server drops the datagram
F+=("$E/IP($A)/UDP(sport=40001, dport=7000)/b'payload1'")
# @ih,0,32 set: the first payload bytes, the UDP checksum fixed (nft's pseudo-header flag): port unreachable
F+=("$E/IP($A)/UDP(sport=40002, dport=7100)/b'payload2'")
# @nh,8,8 set 0xb8: the TOS byte without the IPv4 checksum fix, the server drops the packet
F+=("$E/IP($A)/UDP(sport=40003, dport=7200)/b'payload3'")
# ip protocol set 253: both checksums fixed, the server has no handler (protocol unreachable)
F+=("$E/IP($A)/UDP(sport=40004, dport=7300)/b'payload4'")
# ip length set 40 on a 48-byte packet: the server trims it and drops the short datagram
F+=("$E/IP($A)/UDP(sport=40005, dport=7400)/b'payload5payload5payload5'")
# marks from nft_bitwise: 0x103 in forward (ttl 33), 0x1 from ct mark 0x102 >> 8 in postrouting (ip id)
F+=("$E/IP($A)/UDP(sport=40006, dport=7500)/b'payload6'")
# to 10.2.0.200, (daddr & 255.255.255.0) | 0.0.0.2 before conntrack; ct mark 0x102 in postrouting (ip id)
F+=("$E/IP(src='10.1.0.2', dst='10.2.0.200')/UDP(sport=40007, dport=7600)/b'payload7'")
# icmp id set 0x77: the reply's identifier is not the request's for conntrack
F+=("$E/IP($A)/ICMP(id=5, seq=1)/b'abcdefgh'")
ip netns exec client sendframe eth0 "${F[@]}"
