# h3 makes itself known to the bridge (its fdb entry on port3)
ip netns exec h3 ping -c 1 -W 1 10.0.0.1
sleep 0.3
# h1 -> h2: bridge prerouting writes h3's MAC into the echo request, forwarded to port3 only (h3 drops it)
ip netns exec h1 ping -c 1 -W 1 10.0.0.2 || true
sleep 0.3
# h1 -> the host at 02:00:00:00:00:99 (OTHERHOST on port1): netdev ingress writes br0's MAC before
# br_handle_frame, which makes it the host's (pkt_type HOST): answered
ip netns exec h1 ip neigh replace 10.0.0.254 lladdr 02:00:00:00:00:99 dev eth0 nud permanent
ip netns exec h1 ping -c 1 -W 1 10.0.0.254 || true
sleep 0.3
# the same through 02:00:00:00:00:98, rewritten in bridge prerouting, after br_handle_frame: passed up
# to br0 but still OTHERHOST, dropped by ip_rcv
ip netns exec h1 ip neigh replace 10.0.0.254 lladdr 02:00:00:00:00:98 dev eth0 nud permanent
ip netns exec h1 ping -c 1 -W 1 10.0.0.254 || true
sleep 0.3
# tagged frames (the tag is skb->vlan_tci on the way in): VID 10 rewritten to 20 and flooded tagged 20;
# VID 20 PCP 0: vlan pcp set ends its rule unwritten (nft_payload_set_vlan writes only the whole TCI)
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='ff:ff:ff:ff:ff:ff')/Dot1Q(vlan=10, type=0x88b5)/Raw(b'vlan 10 becomes 20')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:02:02')/Dot1Q(vlan=20, type=0x88b5)/Raw(b'vlan 20 pcp stays 0')"
