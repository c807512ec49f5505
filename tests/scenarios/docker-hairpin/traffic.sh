# c2 -> the host's published port -> c1 (hairpin: in and out of docker0, masqueraded)
ip netns exec c2 socat -u -T 2 TCP:192.168.1.1:8080,connect-timeout=2,sourceport=42001 -
sleep 0.3
# c2 -> c1 directly (plain bridging, seen by the inet forward chain through br_netfilter)
ip netns exec c2 socat -u -T 2 TCP:172.17.0.2:80,connect-timeout=2,sourceport=42002 -
