# the client on the wire: ARP, ping and TCP to c1 (port 81 dropped by c1's input chain), ping to c2
ip netns exec client ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec client socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=43001 -
sleep 0.3
ip netns exec client socat - TCP:10.0.0.2:81,connect-timeout=0.5,sourceport=43002 </dev/null || true
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.0.0.3
sleep 0.3
# container to container through the lower device (bridge mode: never on the wire)
ip netns exec c2 ping -c 1 -W 1 10.0.0.2
sleep 0.3
ip netns exec c2 socat -u -T 2 TCP:10.0.0.2:80,connect-timeout=2,sourceport=43003 -
sleep 0.3
# a container to the client
ip netns exec c1 socat -u -T 2 TCP:10.0.0.100:80,connect-timeout=2,sourceport=43004 -
sleep 0.3
# the host to a container and back: unanswered ARP both ways
ping -c 1 -W 1 10.0.0.2 || true
sleep 0.3
ip netns exec c2 ping -c 1 -W 1 10.0.0.1 || true
