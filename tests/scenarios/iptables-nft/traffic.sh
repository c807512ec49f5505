# from outside: ping the router, its ssh, ident (REJECT with tcp-reset), telnet (LOGDROP), the forwarded port
ip netns exec wan ping -c 1 -W 1 198.51.100.1
sleep 0.3
ip netns exec wan socat -u -T 2 TCP:198.51.100.1:22,connect-timeout=2,sourceport=50001 -
sleep 0.3
ip netns exec wan socat - TCP:198.51.100.1:113,connect-timeout=1,sourceport=50002 </dev/null || true
sleep 0.3
ip netns exec wan socat - TCP:198.51.100.1:23,connect-timeout=0.5,sourceport=50003 </dev/null || true
sleep 0.3
ip netns exec wan socat -u -T 2 TCP:198.51.100.1:8080,connect-timeout=2,sourceport=50004 -
sleep 0.3
# from the LAN out: masqueraded
ip netns exec lan socat -u -T 2 TCP:198.51.100.7:80,connect-timeout=2,sourceport=40001 -
