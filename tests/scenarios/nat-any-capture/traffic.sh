ip netns exec a socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from a"
sleep 0.3
ip netns exec b socat -u - UDP:203.0.113.53:53,sourceport=5000 <<<"from b"
sleep 0.3
# both send an echo request with the same identifier (crafted, so the identifiers really are equal)
ip netns exec a sendframe eth0 \
  "Ether(src='02:00:00:00:0a:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.10', dst='203.0.113.53', id=600)/ICMP(id=1234, seq=1)"
ip netns exec b sendframe eth0 \
  "Ether(src='02:00:00:00:0b:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.11', dst='203.0.113.53', id=601)/ICMP(id=1234, seq=1)"
