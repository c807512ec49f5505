ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.1.0.1:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec client socat - TCP:10.1.0.1:81,connect-timeout=2,sourceport=40002 </dev/null || true
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5353,sourceport=40003 <<<"to a socket"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5354,sourceport=40004 <<<"to no socket"
sleep 0.3
# a protocol nobody handles (253), and an echo request to the subnet broadcast (ignored by default)
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=7001, proto=253)/Raw(b'experimental')" \
  "Ether(src='02:00:00:00:01:02', dst='ff:ff:ff:ff:ff:ff')/IP(src='10.1.0.2', dst='10.1.0.255', id=7002)/ICMP(id=77, seq=1)"
