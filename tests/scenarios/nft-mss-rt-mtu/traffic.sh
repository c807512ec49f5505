# Crafted SYNs from the client (no listener on the server: it answers RST, which the router forwards
# back; the rule only takes SYNs), one sendframe.
F=()
E="Ether(dst='02:00:00:00:01:01', src=hw())"
# to the server over the 1400 link: MSS 1460 lowered to 1360
F+=("$E/IP(src='10.1.0.2', dst='10.2.0.2')/TCP(sport=41001, dport=80, flags='S', seq=1000, options=[('MSS', 1460), ('SAckOK', b'')])")
# behind the server, route mtu 1300: lowered to 1260
F+=("$E/IP(src='10.1.0.2', dst='10.3.0.1')/TCP(sport=41002, dport=80, flags='S', seq=2000, options=[('MSS', 1460)])")
# MSS 1200 already below: kept
F+=("$E/IP(src='10.1.0.2', dst='10.3.0.1')/TCP(sport=41003, dport=80, flags='S', seq=3000, options=[('MSS', 1200)])")
ip netns exec client sendframe eth0 "${F[@]}"
