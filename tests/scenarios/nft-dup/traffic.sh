ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 10.2.0.2
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:5001,sourceport=40001 <<<"copied then dropped"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:6000,sourceport=40002 <<<"netdev dup"
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:7000,sourceport=40003 <<<"not copied"
