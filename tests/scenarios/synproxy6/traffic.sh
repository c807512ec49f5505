# A connection through the router to the server's port 80 and one to the host's own port 22, each with
# a line of data both ways; then an ACK to port 80 acknowledging no SYN-ACK (a bad cookie: dropped).
timeout 5 ip netns exec client sh -c 'echo hello | socat -t 1 - TCP6:[2001:db8:2::2]:80,sourceport=40080'
sleep 0.3
timeout 5 ip netns exec client sh -c 'echo hi | socat -t 1 - TCP6:[2001:db8:1::1]:22,sourceport=40022'
sleep 0.3
timeout 20 ip netns exec client python3 - <<'PY'
from scapy.all import Ether, IPv6, TCP, sendp, conf
conf.verb = 0
HOST, ME = "02:00:00:00:01:01", "02:00:00:00:01:02"
sendp(Ether(src=ME, dst=HOST)/IPv6(src="2001:db8:1::2", dst="2001:db8:2::2")/TCP(sport=40100, dport=80, flags="A", seq=5000, ack=123456789), iface="eth0")
PY
sleep 0.5
