# the client on the wire to c1: its solicitation for c1's solicited-node group reaches c1 alone
ip netns exec client ping -6 -c 1 -W 1 2001:db8::2
sleep 0.3
ip netns exec client socat -u -T 2 TCP6:[2001:db8::2]:80,connect-timeout=2,sourceport=45001 -
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8::2]:81,connect-timeout=0.5,sourceport=45002 </dev/null || true
sleep 0.3
# c2 to c1 (bridge mode: the solicitation is cloned to c1 only, and leaves by eth0; the rest is handed over inside)
ip netns exec c2 ping -6 -c 1 -W 1 2001:db8::2
sleep 0.3
# c3 to the client: its solicitation reaches neither c1 nor c2, and leaves by eth0
ip netns exec c3 ping -6 -c 1 -W 1 2001:db8::100
