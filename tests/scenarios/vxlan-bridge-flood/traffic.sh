# vm1 pings vm2: its ARP request is flooded by vx0 to both remotes (the all-zeros entries), node2
# and node3 learn vm1's MAC at the host (vxlan_snoop), vm2's reply comes back unicast and the host
# learns vm2's MAC at node2, so the echo goes to node2 alone; vm3 pings vm1 (the static entry sends
# the reply to node3); then node2 sends a frame whose inner source is vm3's MAC (the host's static
# entry says node3: not moved, dropped) and one with an unknown VNI
ip netns exec vm1 ping -c 1 -W 2 10.10.0.2
sleep 0.3
ip netns exec vm3 ping -c 1 -W 2 10.10.0.1
sleep 0.3
ip netns exec node2 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='192.168.60.2', dst='192.168.60.1', id=7001)/UDP(sport=50001, dport=4789)/Raw(b'\x08\x00\x00\x00\x00\x00\x2a\x00' + bytes(Ether(src='02:00:00:00:13:01', dst='02:00:00:00:11:01')/IP(src='10.10.0.3', dst='10.10.0.1', id=1)/ICMP(id=201, seq=1)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='192.168.60.2', dst='192.168.60.1', id=7002)/UDP(sport=50002, dport=4789)/Raw(b'\x08\x00\x00\x00\x00\x00\x2b\x00' + bytes(Ether(src='02:00:00:00:12:01', dst='02:00:00:00:11:01')/IP(src='10.10.0.2', dst='10.10.0.1', id=2)/ICMP(id=202, seq=1)))"
