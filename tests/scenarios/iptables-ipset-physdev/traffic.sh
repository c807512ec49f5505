sleep 0.3
# h1 -> h2 ping: h1 is nomatch in cali-allow (10.0.0.0/30 nomatch is more specific than /24): dropped
ip netns exec h1 ping -c 1 -W 1 10.0.0.2 || true
sleep 0.3
# h2 -> h3 and h3 -> h2 ping: allowed (10.0.0.2 exact, 10.0.0.9 by the /24); replies established
ip netns exec h2 ping -c 1 -W 1 10.0.0.9 || true
sleep 0.3
ip netns exec h3 ping -c 1 -W 1 10.0.0.2 || true
sleep 0.3
# h1 -> h2 TCP/80: in cali-svc (dst,dst) from a port+ port: forwarded; TCP/81 is not: dropped
ip netns exec h1 socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=40001 - || true
sleep 0.3
ip netns exec h1 socat - TCP:10.0.0.2:81,connect-timeout=0.5,sourceport=40002 </dev/null || true
sleep 0.3
# h1 -> h3 anything: physdev port1 -> port3 dropped (even the service udp:53)
ip netns exec h1 socat -T 0.5 - UDP:10.0.0.9:53,sourceport=40003 <<<'q1' || true
sleep 0.3
# h2 -> h3 udp:53: a service: forwarded and answered
ip netns exec h2 socat -T 0.5 - UDP:10.0.0.9:53,sourceport=40004 <<<'q2' || true
sleep 0.3
# udp to h2:5000 (no listener): from h1 (nomatch: --return-nomatch matches) dropped; from h3
# forwarded, h2's port unreachable comes back as related
ip netns exec h1 socat -T 0.5 - UDP:10.0.0.2:5000,sourceport=40005 <<<'u1' || true
sleep 0.3
ip netns exec h3 socat -T 0.5 - UDP:10.0.0.2:5000,sourceport=40006 <<<'u3' || true
sleep 0.3
# to the host (br0): TCP/22 from port2 dropped in INPUT, from port3 reset (no listener); ping from h1
# accepted by the physdev rule of INPUT (in port, not bridged)
ip netns exec h2 socat - TCP:10.0.0.254:22,connect-timeout=0.5,sourceport=40007 </dev/null || true
sleep 0.3
ip netns exec h3 socat - TCP:10.0.0.254:22,connect-timeout=0.5,sourceport=40008 </dev/null || true
sleep 0.3
ip netns exec h1 ping -c 1 -W 1 10.0.0.254 || true
