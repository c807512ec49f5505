# The router learns 1280 towards 10.9.0.2 from b's fragmentation needed for its own ping; then a's
# packets (crafted, so that a's own path MTU cache plays no part) meet that learned MTU in ip_forward.
E="Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2'"
# 1. the router's own DF ping of 1400 bytes: b answers fragmentation needed (mtu 1280)
ping -c 1 -W 1 -M do -s 1372 10.9.0.2 || true
sleep 0.3
# 2. DF 1400 from a to 10.9.0.2: the router answers fragmentation needed itself (ip_forward_use_pmtu)
# 3. DF 1400 from a to 10.8.0.2: nothing learned there, forwarded (and answered by c)
# 4. 1400 without DF from a to 10.9.0.2: the router fragments it to the learned 1280
ip netns exec a sendframe eth0 \
  "$E, dst='10.9.0.2', id=9001, flags='DF')/ICMP(id=91, seq=1)/Raw(b'x'*1372)" \
  "$E, dst='10.8.0.2', id=9002, flags='DF')/ICMP(id=92, seq=1)/Raw(b'x'*1372)" \
  "$E, dst='10.9.0.2', id=9003)/ICMP(id=93, seq=1)/Raw(b'x'*1372)"
