"""local-delivery: what reaches the host's own sockets / protocol handlers through eth0."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pfframes import F, payload  # noqa: E402
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, fragment  # noqa: E402

HOST_MACS = {0: "02:00:00:00:01:01"}
PORTS = [0]
H = HOST_MACS[0]
P = "02:00:00:00:01:02"          # the peer on the wire (10.1.0.2)
BC = "ff:ff:ff:ff:ff:ff"
E = Ether(src=P, dst=H)
EB = Ether(src=P, dst=BC)
SRC = "10.1.0.2"


def ip(dst, i, **kw):
    return IP(src=kw.pop("src", SRC), dst=dst, id=i, **kw)


big = payload("frag", 1200)
frag_pkt = ip("10.1.0.1", 0x2222) / UDP(sport=40022, dport=5000) / Raw(big)
frags = fragment(frag_pkt, fragsize=800)

FRAMES = [
    F(E / ip("10.1.0.1", 0x101) / ICMP(id=0x77, seq=1) / Raw(payload("echo1")),
      "ICMP echo request to 10.1.0.1 (host resolves 10.1.0.2 first)"),
    F(EB / ARP(op=1, hwsrc=P, psrc=SRC, hwdst="00:00:00:00:00:00", pdst="10.1.0.1"),
      "ARP who-has 10.1.0.1 (broadcast)"),
    F(EB / ARP(op=1, hwsrc=P, psrc=SRC, hwdst="00:00:00:00:00:00", pdst="192.168.7.1"),
      "ARP who-has 192.168.7.1 (secondary subnet, asked from 10.1.0.2)"),
    F(EB / ARP(op=1, hwsrc=P, psrc=SRC, hwdst="00:00:00:00:00:00", pdst="10.1.0.77"),
      "ARP who-has 10.1.0.77 (not the host)"),
    F(E / ARP(op=1, hwsrc=P, psrc=SRC, hwdst="00:00:00:00:00:00", pdst="10.1.0.1"),
      "ARP who-has 10.1.0.1, unicast to the host's MAC"),
    F(E / ip("10.1.0.1", 0x106) / TCP(sport=40001, dport=8080, flags="S", seq=1000, window=64240),
      "TCP SYN to 10.1.0.1:8080 (socat listening)"),
    F(E / ip("10.1.0.1", 0x107) / TCP(sport=40001, dport=8080, flags="R", seq=1001, window=0),
      "TCP RST (seq = ISN+1) aborting that embryonic connection"),
    F(E / ip("10.1.0.1", 0x108) / TCP(sport=40002, dport=8081, flags="S", seq=2000, window=64240),
      "TCP SYN to 10.1.0.1:8081 (closed)"),
    F(E / ip("10.1.0.1", 0x109) / UDP(sport=40003, dport=5000) / Raw(payload("udp-open")),
      "UDP to 10.1.0.1:5000 (socat listening)"),
    F(E / ip("10.1.0.1", 0x10a) / UDP(sport=40004, dport=5001) / Raw(payload("udp-closed")),
      "UDP to 10.1.0.1:5001 (closed)"),
    F(EB / ip("10.1.0.255", 0x10b) / UDP(sport=40005, dport=5000) / Raw(payload("bcast-open")),
      "UDP to subnet broadcast 10.1.0.255:5000 (socket bound to 0.0.0.0:5000)"),
    F(EB / ip("10.1.0.255", 0x10c) / UDP(sport=40006, dport=5001) / Raw(payload("bcast-closed")),
      "UDP to subnet broadcast 10.1.0.255:5001 (no socket)"),
    F(EB / ip("255.255.255.255", 0x10d) / UDP(sport=40007, dport=5000) / Raw(payload("lbcast")),
      "UDP to limited broadcast 255.255.255.255:5000"),
    F(EB / ip("192.168.7.255", 0x10e) / UDP(sport=40008, dport=5000) / Raw(payload("brd-less")),
      "UDP to 192.168.7.255:5000 (L2 broadcast; that subnet was added without brd)",
      remark="delivered as a broadcast: the kernel adds 'broadcast 192.168.7.255' to the local table for a "
             "primary address with prefix < /31 even without brd (see host-snapshot/route4.json)"),
    F(EB / ip("10.1.0.255", 0x10f) / ICMP(id=0x77, seq=2) / Raw(payload("echo-bc")),
      "ICMP echo request to subnet broadcast 10.1.0.255"),
    F(E / ip("192.168.7.1", 0x110) / ICMP(id=0x77, seq=3) / Raw(payload("echo-sec")),
      "ICMP echo request to the secondary address 192.168.7.1"),
    F(E / ip("127.0.0.1", 0x111) / ICMP(id=0x77, seq=4) / Raw(payload("echo-lo")),
      "ICMP echo request to 127.0.0.1 arriving on eth0"),
    F(E / ip("10.1.0.77", 0x112) / ICMP(id=0x77, seq=5) / Raw(payload("echo-other")),
      "ICMP echo request to 10.1.0.77 sent to the host's MAC (forwarding is off)"),
    F(EB / ip("10.1.0.1", 0x113) / ICMP(id=0x77, seq=6) / Raw(payload("echo-l2bc")),
      "ICMP echo request to 10.1.0.1 in an L2 broadcast frame"),
    F(EB / ip("10.1.0.255", 0x114) / TCP(sport=40009, dport=8080, flags="S", seq=3000, window=64240),
      "TCP SYN to the subnet broadcast 10.1.0.255:8080"),
    F(E / ip("10.1.0.1", 0x115, proto=253) / Raw(payload("proto253")),
      "IP protocol 253 (no handler) to 10.1.0.1"),
    F(E / frags[0], "UDP to 10.1.0.1:5000, first fragment (MF, offset 0)"),
    F(E / frags[1], "UDP to 10.1.0.1:5000, last fragment (completes the datagram)"),
    F(E / ip("10.1.0.1", 0x118, ttl=1) / UDP(sport=40010, dport=5000) / Raw(payload("ttl1")),
      "UDP to 10.1.0.1:5000 with TTL 1"),
    F(E / ip("10.1.0.1", 0x119) / ICMP(type=13, id=0x78, seq=1, ts_ori=1000, ts_rx=0, ts_tx=0),
      "ICMP timestamp request to 10.1.0.1",
      remark="the kernel answers with a timestamp reply (type 14) but counts it as IcmpOutEchoReps / "
             "IcmpMsgOutType0"),
    F(E / ip("8.8.8.8", 0x11a, src="10.1.0.2") / UDP(sport=40011, dport=33434) / Raw(payload("transit")),
      "UDP to 8.8.8.8 via the host's MAC (transit, forwarding off, default route exists)"),
]
