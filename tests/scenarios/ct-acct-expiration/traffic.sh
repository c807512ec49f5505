socat UDP-RECVFROM:7000,fork SYSTEM:cat &
sleep 0.3
# three pings: the first opens the entry, the next two find 30 s left
ip netns exec client ping -c 3 -i 0.3 -W 1 10.1.0.1
sleep 0.3
# one UDP flow, echoed: at once (new), 1 s later (30 s left), 3 s later (answered for 2 s: 120 s, assured)
echo one | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
sleep 0.5
echo two | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
sleep 2.5
echo three | timeout 3 ip netns exec client socat -t 0.5 - UDP:10.1.0.1:7000,sourceport=41000
sleep 0.3
