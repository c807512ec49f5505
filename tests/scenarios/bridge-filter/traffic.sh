# h1 -> h2: ARP (flooded), ping, TCP/80 allowed, TCP/81 dropped in the bridge forward chain
ip netns exec h1 ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec h1 socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec h1 socat - TCP:10.0.0.2:81,connect-timeout=0.5,sourceport=40002 </dev/null || true
sleep 0.3
# h1 -> h3: h1's ARP request is flooded to h3, but h3's replies are dropped at prerouting (its
# MAC is blocked), so h1 asks again
ip netns exec h1 ping -c 1 -W 2 10.0.0.3 || true
sleep 0.3
# an unknown unicast destination MAC from h1 (flooded), and a frame of an unknown ethertype (dropped in forward)
ip netns exec h1 sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:09:09')/IP(src='10.0.0.1', dst='10.0.0.9', id=5001)/ICMP(id=5, seq=1)" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:02:02', type=0x88b5)/Raw(b'local experimental ethertype')"
