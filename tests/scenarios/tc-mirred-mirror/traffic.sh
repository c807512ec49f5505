ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.2.0.2
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:5001,sourceport=40001 <<<"dropped in forward"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:6000,sourceport=40002 <<<"mirror to a down device"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:7000,sourceport=40003 <<<"ingress mirror"
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.2.0.2', id=7004)/TCP(sport=40004, dport=80, flags='S', seq=1000)"
