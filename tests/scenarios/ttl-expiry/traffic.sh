# like traceroute: TTL 1 expires at the host, TTL 2 at r2, TTL 3 reaches the server
for ttl in 1 2 3; do
    ip netns exec client ping -c 1 -W 1 -t $ttl 10.3.0.2 || true
    sleep 0.3
done
# a UDP probe with TTL 2 (crafted), and one with TTL 0 that should never have been sent
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=2, id=9002)/UDP(sport=40000, dport=33434)/Raw(b'probe')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=0, id=9003)/UDP(sport=40000, dport=33435)/Raw(b'probe')"
