# Crafted SYNs from the client to the server's port 80 (no listener: the server answers RST, which the
# router forwards back with the MSS rule not matching and no TTL rule on eth0), one sendframe.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
A="src='10.1.0.2', dst='10.2.0.2'"
# MSS 1460: lowered to 1360
F+=("$E/IP($A)/TCP(sport=40001, dport=80, flags='S', seq=1000, options=[('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1, 0)), ('NOP', None), ('WScale', 7)])")
# MSS 1200: kept (the MSS is only lowered)
F+=("$E/IP($A, tos=3)/TCP(sport=40002, dport=80, flags='S', seq=2000, options=[('MSS', 1200)])")
# no MSS option: unchanged TCP header
F+=("$E/IP($A)/TCP(sport=40003, dport=80, flags='S', seq=3000, options=[('SAckOK', b''), ('NOP', None), ('NOP', None)])")
# a NOP before the MSS: the option value at an odd offset
F+=("$E/IP($A)/TCP(sport=40004, dport=80, flags='S', seq=4000, options=[('NOP', None), ('MSS', 1460), ('NOP', None), ('NOP', None), ('NOP', None)])")
ip netns exec client sendframe eth0 "${F[@]}"
