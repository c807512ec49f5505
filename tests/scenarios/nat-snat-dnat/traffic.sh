# out: SNAT to 198.51.100.1
ip netns exec lan socat -u -T 2 TCP:198.51.100.7:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
ip netns exec lan ping -c 1 -W 1 198.51.100.7
sleep 0.3
# in: DNAT of the forwarded port to the LAN server
ip netns exec wan socat -u -T 2 TCP:198.51.100.1:2222,connect-timeout=2,sourceport=50001 -
sleep 0.3
# in, not forwarded: the router's own closed port 2223 (RST)
ip netns exec wan socat - TCP:198.51.100.1:2223,connect-timeout=1,sourceport=50002 </dev/null || true
