socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hi' &
sleep 0.5
# 2180 -> 8080: tie (before the nat core) sees 2180 and lets it through; the listener answers
ip netns exec client socat -u -T 2 TCP:10.1.0.1:2180,connect-timeout=2,sourceport=40001 -
sleep 0.3
# 2181: dropped by tie (no DNAT for it either way); a crafted SYN, so no client socket is left waiting
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=2181)/TCP(sport=40002, dport=2181, flags='S', seq=1000)"
sleep 0.3
# 2182: dropped by late, registered last, before the nat core
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', id=2182)/TCP(sport=40003, dport=2182, flags='S', seq=2000)"
sleep 0.3
