# Bursts that exceed the host's ICMP rate limits (lab.sh). Frames are crafted so that the
# datagrams and their timing repeat; sendframe --gap 0.02 sends them 20 ms apart.
# 1. ten UDP datagrams to a closed port: the per-destination bucket of 10.1.0.2 starts full, so the
#    first 6 get a port unreachable and the other 4 none
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=1)/UDP(sport=40001, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=2)/UDP(sport=40002, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=3)/UDP(sport=40003, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=4)/UDP(sport=40004, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=5)/UDP(sport=40005, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=6)/UDP(sport=40006, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=7)/UDP(sport=40007, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=8)/UDP(sport=40008, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=9)/UDP(sport=40009, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=10)/UDP(sport=40010, dport=9)/Raw(b'rate')"
sleep 1.2
# 2. twelve more, 230 ms apart (sendframe takes seconds to start, so the bucket is full again):
#    tokens accrue 57.5 jiffies a frame against 250 a message: 7 answered, 3 not, the 10th answered, 2 not
ip netns exec client sendframe --gap 0.23 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=11)/UDP(sport=40011, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=12)/UDP(sport=40012, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=13)/UDP(sport=40013, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=14)/UDP(sport=40014, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=15)/UDP(sport=40015, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=16)/UDP(sport=40016, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=17)/UDP(sport=40017, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=18)/UDP(sport=40018, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=19)/UDP(sport=40019, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=20)/UDP(sport=40020, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=21)/UDP(sport=40021, dport=9)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.1.0.1', ttl=64, id=22)/UDP(sport=40022, dport=9)/Raw(b'rate')"
sleep 0.3
# 3. TTL 1 through the host: time exceeded to 10.1.0.2 draws on the same bucket
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=1, id=21)/UDP(sport=40021, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=1, id=22)/UDP(sport=40022, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=1, id=23)/UDP(sport=40023, dport=33434)/Raw(b'rate')"
sleep 0.3
# 4. TTL 2: forwarded by the host, expires at r2, whose global ICMP budget is 0: no answer
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=2, id=31)/UDP(sport=40031, dport=33434)/Raw(b'rate')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.2', dst='10.3.0.2', ttl=2, id=32)/UDP(sport=40032, dport=33434)/Raw(b'rate')"
sleep 0.3
# 5. eight echo requests from 10.1.0.3 (a fresh bucket): echo replies are in this host's ratemask,
#    so 6 are answered and 2 are not
ip netns exec client sendframe --gap 0.02 eth0 \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=501)/ICMP(id=7, seq=1)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=502)/ICMP(id=7, seq=2)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=503)/ICMP(id=7, seq=3)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=504)/ICMP(id=7, seq=4)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=505)/ICMP(id=7, seq=5)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=506)/ICMP(id=7, seq=6)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=507)/ICMP(id=7, seq=7)/Raw(b'echo')" \
  "Ether(src='02:00:00:00:01:02', dst='02:00:00:00:01:01')/IP(src='10.1.0.3', dst='10.1.0.1', id=508)/ICMP(id=7, seq=8)/Raw(b'echo')"
