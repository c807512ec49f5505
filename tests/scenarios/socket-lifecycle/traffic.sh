ip netns exec client socat -u - UDP:10.1.0.1:5000,sourceport=41000 <<<"first sender"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5000,sourceport=41001 <<<"another port of it"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5001,sourceport=41000 <<<"fork one"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5001,bind=10.1.0.3,sourceport=41000 <<<"fork two"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5002,sourceport=41000 <<<"recvfrom once"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5002,sourceport=41000 <<<"recvfrom gone"
sleep 0.3
ip netns exec client socat -u - UDP:10.1.0.1:5003,sourceport=41000 <<<"recv"
sleep 0.3
ip netns exec client socat -u /dev/null TCP:10.1.0.1:80,connect-timeout=2,sourceport=40001
sleep 0.3
ip netns exec client socat -u /dev/null TCP:10.1.0.1:80,connect-timeout=2,sourceport=40002 || true
sleep 0.3
ip netns exec client socat -u /dev/null TCP:10.1.0.1:81,connect-timeout=2,sourceport=40003,reuseaddr
sleep 0.3
ip netns exec client socat -u /dev/null TCP:10.1.0.1:81,connect-timeout=2,sourceport=40003,reuseaddr
sleep 0.3
