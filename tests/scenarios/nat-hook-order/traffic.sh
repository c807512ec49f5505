# 2121 -> 21: through (every chain sees what its place says; none matches)
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2121,connect-timeout=2,sourceport=40001 -
sleep 0.3
# 2122 -> 22: dropped by the filter chain at 0, after NAT (SYN and its retransmission)
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2122,connect-timeout=1.5,sourceport=40002 - || true
sleep 0.3
# 2123 -> 23: through; the mangle chain at -150 sees 2123 on every packet
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2123,connect-timeout=2,sourceport=40003 -
sleep 0.3
# 2124: dropped by the chain at -100 registered after the nat chains (it runs before the nat core)
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2124,connect-timeout=1.5,sourceport=40004 - || true
sleep 0.3
# 2125 -> 25: dropped by the chain at -100 registered before them (it runs after the nat core)
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2125,connect-timeout=1.5,sourceport=40005 - || true
