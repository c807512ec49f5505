# UDP to 7001..7005 through the router: 7001, 7003 and 7004 dropped at eth1 egress by their
# tc_index, 7002 and 7005 forwarded (the server answers port unreachable); a ping passes.
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7001)/UDP(sport=40001, dport=7001)/Raw(b'ffff:5')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7002)/UDP(sport=40002, dport=7002)/Raw(b'1:16')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7003)/UDP(sport=40003, dport=7003)/Raw(b'2:7')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7004)/UDP(sport=40004, dport=7004)/Raw(b'2:8')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7005)/UDP(sport=40005, dport=7005)/Raw(b'none')"
sleep 0.3
