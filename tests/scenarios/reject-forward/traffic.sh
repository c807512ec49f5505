ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:25,connect-timeout=0.5,sourceport=40001 </dev/null || true
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:53,sourceport=40002 <<<"query"
sleep 0.3
ip netns exec client socat - TCP:10.2.0.2:80,connect-timeout=0.5,sourceport=40003 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8:2::2]:25,connect-timeout=0.5,sourceport=40004 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8:2::2]:80,connect-timeout=0.5,sourceport=40005 </dev/null || true
