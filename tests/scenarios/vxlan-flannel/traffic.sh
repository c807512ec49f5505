# pod to pod across the overlay, both ways: ping and TCP; then crafted datagrams node2 sends to the
# host's vxlan port: an unknown VNI (no device: dropped) and a header without the I flag (dropped)
ip netns exec pod1 ping -c 1 -W 2 -e 101 10.244.2.2
sleep 0.3
ip netns exec pod2 ping -c 1 -W 2 -e 102 10.244.1.2
sleep 0.3
ip netns exec pod1 socat -u -T 2 TCP:10.244.2.2:80,sourceport=40001,connect-timeout=2 - || true
sleep 0.3
ip netns exec pod2 socat -u -T 2 TCP:10.244.1.2:80,sourceport=40002,connect-timeout=2 - || true
sleep 0.3
ip netns exec node2 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='192.168.50.2', dst='192.168.50.1', id=7001)/UDP(sport=50001, dport=8472)/Raw(b'\x08\x00\x00\x00\x00\x00\x07\x00' + bytes(Ether(src='02:00:00:00:0a:02', dst='02:00:00:00:0a:01')/IP(src='10.244.2.2', dst='10.244.1.2', id=1)/ICMP(id=103, seq=1)))" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='192.168.50.2', dst='192.168.50.1', id=7002)/UDP(sport=50002, dport=8472)/Raw(b'\x00\x00\x00\x00\x00\x00\x01\x00' + bytes(Ether(src='02:00:00:00:0a:02', dst='02:00:00:00:0a:01')/IP(src='10.244.2.2', dst='10.244.1.2', id=2)/ICMP(id=104, seq=1)))"
