# A connection through the router to the server's port 80 and one to the host's own port 22, each with
# a line of data both ways; then crafted segments from the client: an ACK to port 80 acknowledging no
# SYN-ACK (a bad cookie: dropped), a lone RST (synproxy leaves it: dropped as invalid).
timeout 5 ip netns exec client sh -c 'echo hello | socat -t 1 - TCP:10.2.0.2:80,sourceport=40080'
sleep 0.3
timeout 5 ip netns exec client sh -c 'echo hi | socat -t 1 - TCP:192.168.10.1:22,sourceport=40022'
sleep 0.3
timeout 20 ip netns exec client python3 - <<'PY'
from scapy.all import Ether, IP, TCP, sendp, conf
import time
conf.verb = 0
HOST, ME = "02:00:00:00:01:01", "02:00:00:00:01:02"
sendp(Ether(src=ME, dst=HOST)/IP(src="192.168.10.2", dst="10.2.0.2")/TCP(sport=40100, dport=80, flags="A", seq=5000, ack=123456789), iface="eth0")
time.sleep(0.2)
sendp(Ether(src=ME, dst=HOST)/IP(src="192.168.10.2", dst="10.2.0.2")/TCP(sport=40101, dport=80, flags="R", seq=6000), iface="eth0")
PY
sleep 0.5
