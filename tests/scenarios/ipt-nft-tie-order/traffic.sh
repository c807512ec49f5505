ip netns exec srv socat TCP-LISTEN:21,fork,reuseaddr SYSTEM:'echo ftp' &
ip netns exec srv socat TCP-LISTEN:22,fork,reuseaddr SYSTEM:'echo ssh' &
ip netns exec srv socat TCP-LISTEN:23,fork,reuseaddr SYSTEM:'echo telnet' &
ip netns exec srv socat TCP-LISTEN:24,fork,reuseaddr SYSTEM:'echo smtp' &
sleep 0.5
# 2121 -> 21: through
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2121,connect-timeout=2,sourceport=40001 -
sleep 0.3
# 2122 -> 22: marked by the nft forward chain (it runs first), dropped by iptables FORWARD
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2122,connect-timeout=1.5,sourceport=40002 - || true
sleep 0.3
# 2123 -> 23: through; iptables marks it after the nft chain looked
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2123,connect-timeout=2,sourceport=40003 -
sleep 0.3
# 2124: dropped by the nft chain at -100, before the nat core the iptables nat table registered earlier
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2124,connect-timeout=1.5,sourceport=40004 - || true
sleep 0.3
# 2125 -> 25: the nft chain saw 2125; the server has no listener on 25 (RST)
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:2125,connect-timeout=1.5,sourceport=40005 - || true
sleep 0.3
# 8081: marked by iptables mangle INPUT (added again by iptables-restore, so it runs first), dropped by nft
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:8081,connect-timeout=1.5,sourceport=40006 - || true
sleep 0.3
# 8082: not marked: the router answers RST
ip netns exec lan socat -u -T 2 TCP:10.1.0.1:8082,connect-timeout=1.5,sourceport=40007 - || true
