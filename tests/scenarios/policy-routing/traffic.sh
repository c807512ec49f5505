# from the lower half of the LAN: main table, isp1
ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 203.0.113.10
sleep 0.3
# from the upper half: table 100, isp2
ip netns exec client ping -c 1 -W 1 -I 10.1.0.200 203.0.113.10
sleep 0.3
# TCP/443 from the lower half: marked 0x2 in prerouting, table 200, isp2
ip netns exec client socat -u -T 2 TCP:203.0.113.10:443,connect-timeout=2,bind=10.1.0.2:40001 -
sleep 0.3
# to 198.51.100.7: table 300 has a blackhole for it (dropped silently)
ip netns exec client ping -c 1 -W 1 -I 10.1.0.2 198.51.100.7 || true
