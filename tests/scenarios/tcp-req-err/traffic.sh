# Three SYNs; each SYN-ACK is then quoted by an ICMP error from 10.1.0.2 (a router on the path):
# host unreachable (a hard error: the request is dropped), port unreachable (not hard: it stays),
# host unreachable quoting another sequence number than the SYN-ACK's (ignored: it stays).
timeout 20 ip netns exec client python3 - <<'PY'
from scapy.all import Ether, IP, TCP, ICMP, raw, srp1, sendp, conf
import time
conf.verb = 0
HOST, ME = "02:00:00:00:01:01", "02:00:00:00:01:02"
for src, sport, code, shift in (("10.1.0.9", 40001, 1, 0), ("10.1.0.8", 40002, 3, 0), ("10.1.0.8", 40003, 1, 1000)):
    syn = Ether(src=ME, dst=HOST)/IP(src=src, dst="10.1.0.1", id=sport)/TCP(sport=sport, dport=80, flags="S", seq=1000)
    sa = srp1(syn, iface="eth0", timeout=3)
    assert sa is not None and sa[TCP].flags == "SA", "no SYN-ACK"
    quoted = bytearray(raw(sa[IP])[:28])
    seq = (sa[TCP].seq + shift) & 0xffffffff
    quoted[24:28] = seq.to_bytes(4, "big")
    sendp(Ether(src=ME, dst=HOST)/IP(src="10.1.0.2", dst="10.1.0.1", id=sport + 100)/ICMP(type=3, code=code)/bytes(quoted), iface="eth0")
    time.sleep(0.3)
PY
sleep 0.5
