# from outside: ping the router, its ssh, telnet (deleted rule: policy drop), the forwarded port
ip netns exec wan ping -c 1 -W 1 198.51.100.1
sleep 0.3
ip netns exec wan socat -u -T 2 TCP:198.51.100.1:22,connect-timeout=2,sourceport=50001 -
sleep 0.3
ip netns exec wan socat - TCP:198.51.100.1:23,connect-timeout=0.5,sourceport=50003 </dev/null || true
sleep 0.3
ip netns exec wan socat -u -T 2 TCP:198.51.100.1:8080,connect-timeout=2,sourceport=50004 -
sleep 0.3
# straight at the LAN host's other port: forwarded to WEB, which rejects it
ip netns exec wan ip route add 10.1.0.0/24 via 198.51.100.1
ip netns exec wan socat - TCP:10.1.0.2:9090,connect-timeout=1,sourceport=50005 </dev/null || true
sleep 0.3
# from the LAN out: masqueraded
ip netns exec lan socat -u -T 2 TCP:198.51.100.7:80,connect-timeout=2,sourceport=40001 -
