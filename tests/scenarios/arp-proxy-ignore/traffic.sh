# the client pings the server across the proxy: r answers the ARP request for 10.2.0.2 with its own MAC
ip netns exec client ping -c 1 -W 1 10.2.0.2
sleep 0.3
# n1's own address (arp_ignore 1 answers for it), then its VIP by hand (LVS-DR: the director sends to n1's MAC)
ip netns exec client ping -c 1 -W 1 10.1.0.11
sleep 0.3
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:00:02', dst='02:00:00:00:02:02')/IP(src='10.1.0.2', dst='10.9.0.11')/ICMP(id=7, seq=1)"
sleep 0.3
# crafted requests, one at a time: who answers what
arp() { ip netns exec client sendframe eth0 "Ether(src='02:00:00:00:00:02', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:00:02', psrc='$1', pdst='$2')"; sleep 0.2; }
arp 10.1.0.2 10.9.0.10    # n0: on lo, arp_ignore 0 -> reply
arp 10.1.0.2 10.9.0.11    # n1: VIP on lo, max(all 1, eth0 0) = 1 -> no reply
arp 10.1.0.2 10.1.0.12    # n2: on eth0, sender in its subnet -> reply
arp 10.1.0.2 10.1.4.12    # n2: on eth0, sender not in 10.1.4.0/24 -> no reply (2)
arp 10.1.4.99 10.1.4.12   # n2: sender in 10.1.4.0/24 -> reply
arp 10.1.0.2 10.9.0.13    # n3: scope host on lo -> no reply (3)
arp 10.1.0.2 10.9.0.23    # n3: scope global on lo -> reply
arp 10.1.0.2 10.1.0.18    # n8: never
arp 10.1.0.2 10.2.0.1     # r: its eth1 address, asked on eth0 -> reply (weak host)
arp 10.1.0.2 10.2.0.77    # r: routed out of eth1 -> proxy reply
arp 10.1.0.2 10.1.0.77    # r: routed back out of eth0 -> no proxy reply
arp 10.1.0.2 10.3.0.1     # r: no route -> no reply
# FDB ageing (ageing_time 10 s): n8 speaks once (a gratuitous ARP, flooded), and a frame to its MAC
# goes to p5 only; after 12 s of silence from n8 the entry is gone and the same frame floods every
# port (n8 drops it silently: 10.1.0.99 is not local and it does not forward)
ip netns exec n8 sendframe eth0 \
  "Ether(src='02:00:00:00:05:02', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='02:00:00:00:05:02', psrc='10.1.0.18', pdst='10.1.0.18')"
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:00:02', dst='02:00:00:00:05:02')/IP(src='10.1.0.2', dst='10.1.0.99')/UDP(sport=4000, dport=9)"
sleep 12
ip netns exec client sendframe eth0 \
  "Ether(src='02:00:00:00:00:02', dst='02:00:00:00:05:02')/IP(src='10.1.0.2', dst='10.1.0.99')/UDP(sport=4000, dport=9)"
