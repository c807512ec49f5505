# pod to pod across the IPv6-underlay overlay, both ways: ping and TCP
ip netns exec pod1 ping -c 1 -W 2 -e 101 10.244.2.2
sleep 0.3
ip netns exec pod2 ping -c 1 -W 2 -e 102 10.244.1.2
sleep 0.3
ip netns exec pod1 socat -u -T 2 TCP:10.244.2.2:80,sourceport=40001,connect-timeout=2 - || true
sleep 0.3
ip netns exec pod2 socat -u -T 2 TCP:10.244.1.2:80,sourceport=40002,connect-timeout=2 - || true
