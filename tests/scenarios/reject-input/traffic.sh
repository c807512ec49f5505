ip netns exec client socat - TCP:10.1.0.1:23,connect-timeout=0.5,sourceport=40001 </dev/null || true
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:69,sourceport=40002 <<<"tftp"
sleep 0.3
ip netns exec client socat - TCP:10.1.0.1:25,connect-timeout=0.5,sourceport=40003 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8:1::1]:23,connect-timeout=0.5,sourceport=40004 </dev/null || true
sleep 0.3
ip netns exec client socat - TCP6:[2001:db8:1::1]:25,connect-timeout=0.5,sourceport=40005 </dev/null || true
sleep 0.3
ip netns exec client socat -u - UDP6:[2001:db8:1::1]:70,sourceport=40006 <<<"gopher"
