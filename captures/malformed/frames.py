"""malformed: broken headers, bad checksums, martian addresses, frames for another MAC."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pfframes import F, payload  # noqa: E402
from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoRequest, IPOption, IPv6,  # noqa: E402
                       Raw, raw)
from scapy.utils import checksum  # noqa: E402

HOST_MACS = {0: "02:00:00:00:04:01"}
PORTS = [0]
H = HOST_MACS[0]
P = "02:00:00:00:04:02"          # the peer: 10.1.0.2, 2001:db8:1::2
E = Ether(src=P, dst=H)
E6 = Ether(src=P, dst=H, type=0x86DD)
SRC = "10.1.0.2"
SRC6 = "2001:db8:1::2"


def echo(i, seq, tag, src=SRC, dst="10.1.0.1", eth=E, **kw):
    return eth / IP(src=src, dst=dst, id=i, **kw) / ICMP(id=0xAA, seq=seq) / Raw(payload(tag))


def echo6(seq, tag, src=SRC6, dst="2001:db8:1::1", eth=E, **kw):
    return eth / IPv6(src=src, dst=dst, hlim=64, **kw) / ICMPv6EchoRequest(id=0xAA, seq=seq) / Raw(payload(tag))


def with_options(pkt, opts):
    """pkt (Ether/IP/...) rebuilt with these raw IPv4 option bytes (a multiple of 4), header checksum
    recomputed; scapy cannot build an option whose length field is wrong."""
    ip = pkt[IP].copy()
    ip.options = [IPOption(b"\x01" * len(opts))]
    ip.ihl = None
    ip.len = None
    ip.chksum = None
    b = bytearray(raw(ip))
    b[20:20 + len(opts)] = opts
    b[10:12] = b"\x00\x00"
    b[10:12] = checksum(bytes(b[:20 + len(opts)])).to_bytes(2, "big")
    return Ether(src=pkt.src, dst=pkt.dst, type=0x0800) / Raw(bytes(b))


def as_raw(eth, l3_bytes, ethertype):
    """An Ethernet frame around arbitrary bytes (scapy must not fix anything up)."""
    return Ether(src=eth.src, dst=eth.dst, type=ethertype) / Raw(l3_bytes)


small_echo = raw(IP(src=SRC, dst="10.1.0.1", id=0x412) / ICMP(id=0xAA, seq=12))           # 28 bytes
rr_option = IPOption(b"\x07\x0b\x04" + b"\x00" * 8)                                       # record route, 2 slots
ip_head = raw(IP(src=SRC, dst="10.1.0.1", id=0x417) / UDP(sport=43017, dport=5000))[:10]

FRAMES = [
    F(echo(0x401, 1, "ok4"), "valid ICMP echo request to 10.1.0.1 (baseline; host resolves 10.1.0.2)"),
    F(echo6(2, "ok6"), "valid ICMPv6 echo request to 2001:db8:1::1 (baseline; host resolves 2001:db8:1::2)"),
    F(echo(0x403, 3, "badsum", chksum=0x1234), "IPv4 header checksum wrong"),
    F(echo(0x404, 4, "ihl3", ihl=3), "IPv4 IHL 3"),
    F(echo(0x405, 5, "ver5", version=5), "IPv4 version field 5"),
    F(echo(0x406, 6, "toolong", len=200), "IPv4 total length 200 in a 74-byte frame"),
    F(echo(0x407, 7, "tooshort", len=16), "IPv4 total length 16 (< IHL*4)"),
    F(as_raw(E, ip_head, 0x0800), "IPv4 frame cut after 10 bytes of header"),
    F(echo(0x409, 9, "otherhost", eth=Ether(src=P, dst="02:00:00:00:99:99")),
      "ICMP echo request to 10.1.0.1 in a frame for another unicast MAC"),
    F(echo(0x40a, 10, "src-lo", src="127.0.0.1"), "source 127.0.0.1"),
    F(echo(0x40b, 11, "src-zero", src="0.0.0.0"), "source 0.0.0.0"),
    F(echo(0x40c, 12, "src-mcast", src="224.0.0.5"), "source 224.0.0.5 (multicast)"),
    F(echo(0x40d, 13, "src-bcast", src="10.1.0.255"), "source 10.1.0.255 (the subnet broadcast)",
      remark="accepted (with rp_filter=0 the source check only rejects the host's own addresses); the echo "
             "reply goes to 10.1.0.255 as an L2 broadcast, the kernel loops that broadcast back to itself "
             "(IpInReceives 2, IcmpInEchoReps 1) and drops the looped copy in icmp_rcv with INVALID_PROTO "
             "(an echo reply to a broadcast address): that drop is not this frame's",
      override={"reason": None, "dropReason": None}),
    F(echo(0x40e, 14, "src-self", src="10.1.0.1"), "source 10.1.0.1 (the host's own address)"),
    F(echo(0x40f, 15, "dst-zero", dst="0.0.0.0"), "destination 0.0.0.0"),
    F(echo(0x410, 16, "dst-mcast", dst="224.0.0.99", eth=Ether(src=P, dst="01:00:5e:00:00:63")),
      "destination 224.0.0.99 (a group the host has not joined)"),
    F(echo(0x411, 17, "ttl0", ttl=0), "ICMP echo request to 10.1.0.1 with TTL 0"),
    F(as_raw(E, small_echo + b"\x00" * 18, 0x0800),
      "ICMP echo request, 28-byte datagram in a frame padded to 60 bytes"),
    F(echo(0x413, 19, "rr", options=[rr_option]), "ICMP echo request with a record-route option"),
    F(with_options(echo(0x414, 20, "badopt"), b"\x07\x28\x04" + b"\x00" * 5),
      "IPv4 record-route option whose length (40) runs past the header"),
    F(E / IP(src=SRC, dst="10.1.0.1", id=0x415) / UDP(sport=43015, dport=5000, chksum=0x1234) / Raw(payload("udpsum")),
      "UDP to 10.1.0.1:5000 (socket open) with a wrong checksum"),
    F(E / IP(src=SRC, dst="10.1.0.1", id=0x416) / TCP(sport=43016, dport=8081, flags="S", seq=9000, chksum=0x1234),
      "TCP SYN to 10.1.0.1:8081 with a wrong checksum"),
    F(E / IP(src=SRC, dst="10.1.0.1", id=0x417) / ICMP(id=0xAA, seq=23, chksum=0x1234) / Raw(payload("icmpsum")),
      "ICMP echo request with a wrong ICMP checksum"),
    F(echo6(24, "plen", plen=200), "IPv6 payload length 200 in a 94-byte frame"),
    F(echo6(25, "v6ver4", version=4), "IPv6 header with version field 4 (ethertype 0x86dd)"),
    F(echo6(26, "v6src-mc", src="ff02::1"), "IPv6 source ff02::1 (multicast)"),
    F(echo6(27, "v6src-lo", src="::1"), "IPv6 source ::1"),
    F(E / IPv6(src=SRC6, dst="2001:db8:1::1", hlim=64, nh=59) / Raw(payload("nonext")),
      "IPv6 next header 59 (no next header) with 32 bytes after the header"),
    F(echo6(29, "v6other", eth=Ether(src=P, dst="02:00:00:00:99:99")),
      "ICMPv6 echo request to 2001:db8:1::1 in a frame for another unicast MAC"),
    F(Ether(src=P, dst=H, type=0x88B5) / Raw(payload("ethertype", 46)), "ethertype 0x88b5 (local experimental)"),
    F(Ether(src=P, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwlen=8, hwsrc=P, psrc=SRC, pdst="10.1.0.1"),
      "ARP who-has 10.1.0.1 with hardware length 8"),
]
