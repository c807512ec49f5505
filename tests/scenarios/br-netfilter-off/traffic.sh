ip netns exec c2 ping -c 1 -W 1 172.17.0.2
sleep 0.3
ip netns exec c2 socat -u -T 2 TCP:172.17.0.2:80,connect-timeout=2,sourceport=42001 -
sleep 0.3
# port 81: the forward chain would drop it, but bridged frames never reach it here
ip netns exec c2 socat -u -T 2 TCP:172.17.0.2:81,connect-timeout=2,sourceport=42002 -
sleep 0.3
# c2 to the host itself: input through docker0 (dropped for port 22, RST for port 23)
ip netns exec c2 socat - TCP:172.17.0.1:22,connect-timeout=0.5,sourceport=42003 </dev/null || true
sleep 0.3
ip netns exec c2 socat - TCP:172.17.0.1:23,connect-timeout=0.5,sourceport=42004 </dev/null || true
