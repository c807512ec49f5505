# h1 -> h3's MAC, static on port2 (forwarded to port2 only, h2 drops it), the dynamic one (port2), an unknown MAC (flooded),
# the permanent one (up to br0, which has no address: dropped), a deleted one (flooded)
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:03:02')/IP(src='10.0.0.1', dst='10.0.0.3', id=6001)/ICMP(id=61, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:08:08')/IP(src='10.0.0.1', dst='10.0.0.8', id=6002)/ICMP(id=62, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:04:04')/IP(src='10.0.0.1', dst='10.0.0.4', id=6003)/ICMP(id=63, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:07:07')/IP(src='10.0.0.1', dst='10.0.0.7', id=6004)/ICMP(id=64, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:05:05')/IP(src='10.0.0.1', dst='10.0.0.5', id=6005)/ICMP(id=65, seq=1)"
# h3 speaks: a frame from the static MAC arrives on port3 (broadcast: flooded, out of port1 too); on 6.18
# br_fdb_update moves the static entry to port3 (it stays static)
ip netns exec h3 sendframe eth0 \
  "Ether(src='02:00:00:00:03:02', dst='ff:ff:ff:ff:ff:ff')/IP(src='10.0.0.3', dst='10.0.0.255', id=6006)/ICMP(id=66, seq=1)"
# h1 -> the static MAC again: now forwarded to port3
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:03:02')/IP(src='10.0.0.1', dst='10.0.0.3', id=6007)/ICMP(id=67, seq=1)"
