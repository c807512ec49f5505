# IPv4 and IPv6 through the router and to it, a UDP port each family drops, the router answering
# from UDP port 7 (dropped at netdev egress), and b1 behind the bridge reaching the router and beyond
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
ip netns exec client ping -c 1 -W 1 fd02::2
sleep 0.3
ip netns exec client ping -c 1 -W 1 10.1.0.1
sleep 0.3
ip netns exec client ping -c 1 -W 1 fd01::1
sleep 0.3
ip netns exec client socat -u - UDP:10.2.0.2:9,sourceport=40009 <<<"v4 to 9"
sleep 0.3
ip netns exec client socat -u - UDP6:[fd01::1]:9,sourceport=40010 <<<"v6 to 9"
sleep 0.3
socat -u - UDP:10.1.0.2:5007,sourceport=7 <<<"from 7" || true
sleep 0.3
ip netns exec b1 ping -c 1 -W 1 10.3.0.1
sleep 0.3
ip netns exec b1 ping -c 1 -W 1 10.1.0.2
