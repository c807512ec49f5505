ip netns exec client ping -6 -c 1 -W 1 2001:db8:2::2
sleep 0.3
ip netns exec client socat -u -T 2 TCP6:[2001:db8:2::2]:80,connect-timeout=2,sourceport=40001 -
sleep 0.3
# UDP is not allowed through: dropped by the policy
ip netns exec client socat -u - UDP6:[2001:db8:2::2]:53,sourceport=40002 <<<"query"
sleep 0.3
# hop limit 1: expires at the router (ICMPv6 time exceeded)
ip netns exec client ping -6 -c 1 -W 1 -t 1 2001:db8:2::2 || true
sleep 0.3
# the router itself, on its link-local address
ip netns exec client ping -6 -c 1 -W 1 fe80::ff:fe00:101%eth0 || true
