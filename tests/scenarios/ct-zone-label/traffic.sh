# the same UDP 5-tuple from c1 and from c2 (10.1.0.2:5000 -> 203.0.113.53:53), not answered
ip netns exec c1 socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from c1"
sleep 0.3
ip netns exec c2 socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from c2"
sleep 0.3
# pings with the same echo identifier from both
ip netns exec c1 ping -c 1 -W 1 -e 1234 203.0.113.53
sleep 0.3
ip netns exec c2 ping -c 1 -W 1 -e 1234 203.0.113.53
sleep 0.3
# TCP/80 from both with the same source port; telnet from c2 (labelled 3 and dropped)
ip netns exec c1 socat -u TCP:203.0.113.53:80,sourceport=4000 - </dev/null
sleep 0.3
ip netns exec c2 socat -u TCP:203.0.113.53:80,sourceport=4000 - </dev/null
sleep 0.3
ip netns exec c2 timeout 2 socat -u TCP:203.0.113.53:23,sourceport=4001,connect-timeout=1.5 - </dev/null || true
