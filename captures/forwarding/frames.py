"""forwarding (also used by forwarding-disabled): transit traffic entering eth0."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pfframes import F, payload  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

HOST_MACS = {0: "02:00:00:00:02:01", 1: "02:00:00:00:02:11", 2: "02:00:00:00:02:21"}
PORTS = [0, 1, 2]
P = "02:00:00:00:02:02"          # the sender behind eth0 (10.1.0.2; also answers for 10.1.0.3, 10.1.0.11-15)
E = Ether(src=P, dst=HOST_MACS[0])
SRC = "10.1.0.2"


def udp(dst, i, tag, sport, size=32, **kw):
    return E / IP(src=kw.pop("src", SRC), dst=dst, id=i, **kw) / UDP(sport=sport, dport=33434) / Raw(payload(tag, size))


FRAMES = [
    F(udp("10.2.0.2", 0x201, "direct", 41001), "UDP to 10.2.0.2 (directly connected on eth1)"),
    F(udp("172.16.1.1", 0x202, "via-gw", 41002), "UDP to 172.16.1.1 (172.16.0.0/16 via 10.2.0.2)"),
    F(udp("172.16.9.9", 0x203, "redirect", 41003),
      "UDP to 172.16.9.9 (more specific 172.16.9.0/24 via 10.1.0.3, out of eth0 again)"),
    F(udp("172.17.1.1", 0x204, "metric", 41004), "UDP to 172.17.1.1 (metric 50 via eth2 beats metric 100 via eth1)"),
    # ip_error() rate-limits its ICMP errors per source address with a token bucket
    # (net.ipv4.route.error_cost / error_burst: global, not settable in a namespace), and a redirect
    # sent to a source resets that source's bucket clock. Each frame that ends in ip_error() therefore
    # comes from its own source address (10.1.0.11-15, all answered by the peer), so every error the
    # kernel wants to send is sent, whatever the timing.
    F(udp("172.18.1.1", 0x205, "table100", 41005, src="10.1.0.11"),
      "UDP to 172.18.1.1 from 10.1.0.11 (route only in table 100)"),
    F(udp("172.16.1.1", 0x206, "ttl1", 41006, ttl=1), "UDP to 172.16.1.1 with TTL 1"),
    F(udp("172.16.1.1", 0x207, "ttl2", 41007, ttl=2), "UDP to 172.16.1.1 with TTL 2"),
    F(udp("198.51.100.7", 0x208, "blackhole", 41008, src="10.1.0.15"),
      "UDP to 198.51.100.7 from 10.1.0.15 (blackhole route)"),
    F(udp("203.0.113.5", 0x209, "unreach", 41009, src="10.1.0.12"),
      "UDP to 203.0.113.5 from 10.1.0.12 (unreachable route)"),
    F(udp("192.0.2.5", 0x20a, "prohibit", 41010, src="10.1.0.13"),
      "UDP to 192.0.2.5 from 10.1.0.13 (prohibit route)"),
    F(udp("8.8.8.8", 0x20b, "noroute", 41011, src="10.1.0.14"), "UDP to 8.8.8.8 from 10.1.0.14 (no route, no default)"),
    F(E / IP(src=SRC, dst="10.1.0.1", id=0x20c) / ICMP(id=0x88, seq=1) / Raw(payload("echo-eth0")),
      "ICMP echo request to 10.1.0.1 (the host, eth0)"),
    F(E / IP(src=SRC, dst="10.2.0.1", id=0x20d) / ICMP(id=0x88, seq=2) / Raw(payload("echo-eth1")),
      "ICMP echo request to 10.2.0.1 (the host's eth1 address, arriving on eth0)"),
    F(udp("10.2.0.255", 0x20e, "dirbcast", 41014), "UDP to 10.2.0.255 (eth1's subnet broadcast) sent to the host's MAC"),
    F(udp("172.16.1.1", 0x20f, "df-big", 41015, size=1400, flags="DF"),
      "UDP to 172.16.1.1, 1428-byte datagram with DF (eth1 MTU 1280)",
      remark="with forwarding on: IpForwDatagrams is counted although the datagram never leaves (IpFragFails, "
             "ICMP fragmentation needed, mtu 1280)"),
    F(udp("172.16.1.1", 0x210, "nodf-big", 41016, size=1400), "UDP to 172.16.1.1, 1428-byte datagram without DF"),
    F(E / IP(src=SRC, dst="172.16.1.1", id=0x211) / TCP(sport=41017, dport=80, flags="S", seq=5000, window=64240),
      "TCP SYN to 172.16.1.1:80"),
    F(E / IP(src=SRC, dst="172.16.1.1", id=0x212) / ICMP(id=0x88, seq=3) / Raw(payload("echo-fwd")),
      "ICMP echo request to 172.16.1.1"),
    F(udp("172.16.1.1", 0x213, "src-noroute", 41019, src="172.31.0.5"),
      "UDP to 172.16.1.1 from 172.31.0.5 (source not routable back; rp_filter off)"),
    F(udp("172.16.1.1", 0x214, "src-noroute-ttl1", 41020, src="172.31.0.5", ttl=1),
      "UDP to 172.16.1.1 from 172.31.0.5 with TTL 1 (the time-exceeded has no route back)"),
    F(udp("10.1.0.99", 0x215, "no-neigh", 41021), "UDP to 10.1.0.99 (on eth0's subnet, nobody answers ARP)", wait=4.5,
      remark="with forwarding on: an ICMP redirect first (same in/out device, source on-link), then 3 ARP "
             "requests about 1 s apart, then the queued packet is dropped (NEIGH_FAILED) and an ICMP host "
             "unreachable is sent"),
]
