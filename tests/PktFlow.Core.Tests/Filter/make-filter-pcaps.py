#!/usr/bin/env python3
"""Writes the small captures the filter conformance test runs tcpdump and CaptureFilter over.

    python3 tests/PktFlow.Core.Tests/Filter/make-filter-pcaps.py

Output (next to this script, deterministic): filter-ethernet.pcap (Ethernet: IPv4/IPv6 TCP, UDP,
ICMP, SCTP, GRE, IGMP, ARP, RARP, VLAN and QinQ tags, IPv4 options and fragments, IPv6 extension
headers and fragments, broadcast/multicast, an 802.3 LLC frame, truncated and malformed frames) and
filter-sll2.pcap (Linux cooked v2, incoming and outgoing). Checksums are left at zero: filters do
not look at them. Re-run make-filter-expectations.py afterwards.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

MAC_A = bytes.fromhex("001122334455")
MAC_B = bytes.fromhex("00aabbccddee")
BROADCAST = b"\xff" * 6


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def ip6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def eth(dst, src, etype, payload, tags=()):
    head = dst + src
    for tpid, tci in tags:
        head += struct.pack(">HH", tpid, tci)
    return head + struct.pack(">H", etype) + payload


def ipv4(src, dst, proto, payload, ihl=5, frag=0, options=b"", total=None):
    options = options + b"\x00" * ((ihl - 5) * 4 - len(options)) if ihl > 5 else b""
    length = total if total is not None else ihl * 4 + len(payload) if ihl >= 5 else 20 + len(payload)
    head = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, length, 0x1234, frag, 64, proto, 0, ip4(src), ip4(dst))
    return head + options + payload


def ipv6(src, dst, nxt, payload):
    return struct.pack(">IHBB16s16s", 0x60000000, len(payload), nxt, 64, ip6(src), ip6(dst)) + payload


def tcp(sport, dport, flags, data=b"", offset=5):
    head = struct.pack(">HHIIBBHHH", sport, dport, 1000, 2000, offset << 4, flags, 65535, 0, 0)
    return head + b"\x01" * ((offset - 5) * 4) + data


def udp(sport, dport, data=b""):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def icmp(kind, code=0, data=b"abcdefgh"):
    return struct.pack(">BBHHH", kind, code, 0, 0x42, 1) + data


def icmp6(kind, code=0, data=b"\x00" * 20):
    return struct.pack(">BBHI", kind, code, 0, 0) + data


def sctp(sport, dport):
    return struct.pack(">HHII", sport, dport, 0xdeadbeef, 0) + b"\x01\x00\x00\x04"


def arp(op, sha, spa, tha, tpa):
    return struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, ip4(spa), tha, ip4(tpa))


SYN, ACK, FIN, RST, PSH, URG, ECE, CWR = 2, 16, 1, 4, 8, 32, 64, 128


def ethernet_frames():
    """(bytes, original length or None) in file order."""
    f = []
    add = lambda b, orig=None: f.append((b, orig))
    v4 = lambda s, d, p, pl, **kw: eth(MAC_B, MAC_A, 0x0800, ipv4(s, d, p, pl, **kw))
    v6 = lambda s, d, n, pl: eth(MAC_B, MAC_A, 0x86DD, ipv6(s, d, n, pl))
    # 1-8: a TCP conversation to port 80 and one to 443
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, SYN)))
    add(eth(MAC_A, MAC_B, 0x0800, ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, SYN | ACK))))
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, ACK)))
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, PSH | ACK, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
    add(eth(MAC_A, MAC_B, 0x0800, ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, FIN | ACK))))
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, RST | ACK)))
    add(v4("10.0.0.1", "192.168.1.10", 6, tcp(40001, 443, SYN | ECE | CWR, offset=8)))
    add(v4("192.168.1.10", "10.0.0.1", 6, tcp(443, 40001, URG | ACK | PSH, b"x" * 1200)))
    # 9-14: UDP: DNS, mDNS multicast, DHCP broadcast, syslog
    add(v4("10.0.0.1", "8.8.8.8", 17, udp(53000, 53, b"\x12\x34" + b"\x00" * 10)))
    add(v4("8.8.8.8", "10.0.0.1", 17, udp(53, 53000, b"\x12\x34" + b"\x81\x80" + b"\x00" * 30)))
    add(eth(bytes.fromhex("01005e0000fb"), MAC_A, 0x0800, ipv4("10.0.0.1", "224.0.0.251", 17, udp(5353, 5353, b"\x00" * 12))))
    add(eth(BROADCAST, MAC_A, 0x0800, ipv4("0.0.0.0", "255.255.255.255", 17, udp(68, 67, b"\x01" * 40))))
    add(v4("172.16.5.4", "10.0.0.9", 17, udp(514, 514, b"<13>hello")))
    add(v4("10.1.2.3", "10.0.0.1", 17, udp(6000, 6010)))
    # 15-18: ICMP
    add(v4("10.0.0.1", "8.8.8.8", 1, icmp(8)))
    add(v4("8.8.8.8", "10.0.0.1", 1, icmp(0)))
    add(v4("10.0.0.254", "10.0.0.1", 1, icmp(3, 3, ipv4("10.0.0.1", "10.9.9.9", 17, udp(1234, 80))[:28])))
    add(v4("10.0.0.254", "10.0.0.1", 1, icmp(11, 0)))
    # 19-22: SCTP, GRE, IGMP, IPv4 options
    add(v4("10.0.0.1", "10.0.0.2", 132, sctp(5000, 80)))
    add(v4("10.0.0.1", "10.0.0.3", 47, struct.pack(">HH", 0, 0x0800) + ipv4("192.168.0.1", "192.168.0.2", 1, icmp(8))))
    add(eth(bytes.fromhex("01005e000001"), MAC_A, 0x0800, ipv4("10.0.0.254", "224.0.0.1", 2, b"\x11\x64\x00\x00\x00\x00\x00\x00")))
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40002, 80, SYN), ihl=6, options=b"\x94\x04\x00\x00"))
    # 23-25: IPv4 fragments: first (MF), a later one whose bytes look like port 80, the last
    add(v4("10.0.0.1", "10.0.0.2", 17, udp(53001, 53, b"A" * 32), frag=0x2000))
    add(v4("10.0.0.1", "10.0.0.2", 17, struct.pack(">HH", 80, 80) + b"B" * 28, frag=0x2000 | 5))
    add(v4("10.0.0.1", "10.0.0.2", 17, b"C" * 16, frag=9))
    # 26-29: ARP and RARP
    add(eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, "10.0.0.1", b"\x00" * 6, "10.0.0.2")))
    add(eth(MAC_A, MAC_B, 0x0806, arp(2, MAC_B, "10.0.0.2", MAC_A, "10.0.0.1")))
    add(eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, "192.168.7.7", b"\x00" * 6, "192.168.7.7")))
    add(eth(BROADCAST, MAC_A, 0x8035, arp(3, MAC_A, "0.0.0.0", MAC_A, "0.0.0.0")))
    # 30-37: IPv6
    add(v6("2001:db8::1", "2001:db8::2", 6, tcp(40000, 80, SYN)))
    add(v6("2001:db8::2", "2001:db8::1", 6, tcp(80, 40000, SYN | ACK)))
    add(v6("2001:db8::1", "2001:4860:4860::8888", 17, udp(53002, 53, b"\x00" * 12)))
    add(v6("2001:db8::1", "2001:db8::2", 58, icmp6(128)))
    add(eth(bytes.fromhex("3333ff000002"), MAC_A, 0x86DD, ipv6("fe80::1", "ff02::1:ff00:2", 58, icmp6(135, data=b"\x00" * 4 + ip6("2001:db8::2")))))
    # fragment header (first fragment) in front of TCP: tcp and proto chase it, port does not
    add(v6("2001:db8::1", "2001:db8::2", 44, struct.pack(">BBHI", 6, 0, 1, 7) + tcp(40003, 80, SYN)))
    # hop-by-hop then UDP: only protochain looks past it
    add(v6("2001:db8::1", "2001:db8::3", 0, struct.pack(">BB", 17, 0) + b"\x01\x04\x00\x00\x00\x00" + udp(40004, 53)))
    # destination options then TCP
    add(v6("2001:db8:1::5", "2001:db8::2", 60, struct.pack(">BB", 6, 0) + b"\x01\x04\x00\x00\x00\x00" + tcp(40005, 443, ACK)))
    # 38-43: VLAN tags
    add(eth(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(40006, 80, SYN)), tags=[(0x8100, 100)]))
    add(eth(MAC_B, MAC_A, 0x86DD, ipv6("2001:db8::1", "2001:db8::2", 17, udp(40007, 53)), tags=[(0x8100, 0x2000 | 200)]))
    add(eth(BROADCAST, MAC_A, 0x0806, arp(1, MAC_A, "10.0.0.1", b"\x00" * 6, "10.0.0.5"), tags=[(0x8100, 100)]))
    add(eth(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.7", "10.0.0.1", 1, icmp(8)), tags=[(0x88A8, 10), (0x8100, 100)]))
    add(eth(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.1", "192.168.1.10", 17, udp(40008, 443)), tags=[(0x9100, 300)]))
    add(eth(MAC_B, MAC_A, 0x0800, ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40006, SYN | ACK)), tags=[(0x8100, 101)]))
    # 44-49: truncated and malformed
    full = v4("10.0.0.1", "10.0.0.2", 6, tcp(40009, 80, ACK, b"z" * 100))
    add(full[:34], len(full))                      # IPv4 header only: ports past the capture
    add(full[:40], len(full))                      # half the TCP header: ports present, flags not
    add(full[:13])                                 # shorter than the type field
    add(full[:20])                                 # type, but a cut IPv4 header
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40010, 80, SYN), ihl=3))   # IHL below 5
    add(eth(BROADCAST, MAC_A, 0x0800, bytes([0x60]) + b"\x00" * 39))  # version 6 under an IPv4 type
    # 50-51: 802.3 with LLC (STP), LLDP
    add(eth(bytes.fromhex("0180c2000000"), MAC_A, 38, b"\x42\x42\x03" + b"\x00" * 35))
    add(eth(bytes.fromhex("0180c200000e"), MAC_A, 0x88CC, b"\x02\x07\x04" + MAC_A + b"\x00\x00"))
    # 52-53: tiny and big
    add(v4("10.0.0.1", "10.0.0.2", 6, tcp(40011, 22, ACK)))
    add(v4("10.0.0.2", "10.0.0.1", 6, tcp(22, 40011, PSH | ACK, b"s" * 1400)))
    return f


def sll2(proto, ptype, payload, ifindex=2):
    return struct.pack(">HHiHBB8s", proto, 0, ifindex, 1, ptype, 6, MAC_A + b"\x00\x00") + payload


def sll2_frames():
    f = []
    add = lambda b: f.append((b, None))
    add(sll2(0x0800, 4, ipv4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, SYN))))
    add(sll2(0x0800, 0, ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, SYN | ACK))))
    add(sll2(0x86DD, 4, ipv6("2001:db8::1", "2001:db8::2", 17, udp(40001, 53))))
    add(sll2(0x86DD, 0, ipv6("2001:db8::2", "2001:db8::1", 58, icmp6(129))))
    add(sll2(0x0806, 1, arp(1, MAC_B, "10.0.0.2", b"\x00" * 6, "10.0.0.1")))
    add(sll2(0x0800, 3, ipv4("10.0.0.9", "10.0.0.8", 1, icmp(8))))
    add(sll2(0x0800, 4, ipv4("10.0.0.1", "10.0.0.2", 17, udp(40002, 443, b"q" * 600)), ifindex=3))
    return f


def write_pcap(name, linktype, frames):
    path = os.path.join(HERE, name)
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, (data, orig) in enumerate(frames):
            out.write(struct.pack("<IIII", 1700000000 + i, 0, len(data), orig or len(data)))
            out.write(data)
    print(f"{path}: {len(frames)} frames")


if __name__ == "__main__":
    write_pcap("filter-ethernet.pcap", 1, ethernet_frames())
    write_pcap("filter-sll2.pcap", 276, sll2_frames())
