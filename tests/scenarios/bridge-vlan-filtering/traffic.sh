# Captured on the trunk port4: frames of VLAN 10 and 20 cross it tagged, VLAN 1 untagged.
# h1 -> h2 in VLAN 10: the ARP request floods to port2, port4 (tagged 10) and br0, not to h3
ip netns exec h1 ping -c 1 -W 2 10.0.10.2
sleep 0.3
# h4 (untagged, VLAN 1) -> h1: to br0 on VLAN 1, routed out of br0.10 (tagged 10 into the bridge,
# out of port1 untagged); the host's ARP request for h1 floods tagged to port4 too
ip netns exec h4 ping -c 1 -W 2 10.0.10.1
sleep 0.3
# h4 -> h3 in VLAN 20 through eth0.20: tagged in and out of port4
ip netns exec h4 ping -c 1 -W 2 10.0.20.3
sleep 0.3
# h3 asks for an address nobody has: VLAN 20 floods to port4 only (not h1, h2, nor br0)
ip netns exec h3 ping -c 1 -W 1 10.0.20.9 || true
sleep 0.3
# crafted, from the trunk:
#  tagged 10 to h1's MAC (allowed, out of port1 untagged; h1 has no handler for the ethertype),
#  tagged 30 (port4 is no member: dropped by ingress filtering),
#  tagged 20 broadcast (floods to port3 only),
#  tagged 20 to br0's MAC (br0 is no member of VLAN 20: dropped before the host's stack),
#  tagged 1 echo to br0 (member: delivered; the reply leaves untagged, VLAN 1 being untagged on port4),
#  priority-tagged (VID 0) echo to br0 (takes port4's pvid 1)
ip netns exec h4 sendframe eth0 \
  "Ether(src='02:00:00:00:04:02', dst='02:00:00:00:01:02')/Dot1Q(vlan=10, type=0x88b5)/Raw(b'vlan 10 to h1')" \
  "Ether(src='02:00:00:00:04:02', dst='02:00:00:00:01:02')/Dot1Q(vlan=30)/IP(src='10.0.10.4', dst='10.0.10.1', id=3001)/ICMP(id=30, seq=1)" \
  "Ether(src='02:00:00:00:04:02', dst='ff:ff:ff:ff:ff:ff')/Dot1Q(vlan=20, type=0x88b5)/Raw(b'vlan 20 broadcast')" \
  "Ether(src='02:00:00:00:04:02', dst='02:00:00:00:00:fe')/Dot1Q(vlan=20)/IP(src='10.0.20.4', dst='10.0.1.254', id=2001)/ICMP(id=20, seq=1)" \
  "Ether(src='02:00:00:00:04:02', dst='02:00:00:00:00:fe')/Dot1Q(vlan=1)/IP(src='10.0.1.4', dst='10.0.1.254', id=1001)/ICMP(id=1, seq=1)" \
  "Ether(src='02:00:00:00:04:02', dst='02:00:00:00:00:fe')/Dot1Q(vlan=0, prio=3)/IP(src='10.0.1.4', dst='10.0.1.254', id=1002)/ICMP(id=1, seq=2)"
