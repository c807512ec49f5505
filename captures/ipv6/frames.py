"""ipv6: local delivery, neighbour discovery and forwarding through eth0 of an IPv6 router."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pfframes import F, payload  # noqa: E402
from scapy.all import (ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr,  # noqa: E402,F401
                       IPv6, IPv6ExtHdrFragment, TCP, UDP, Ether, Raw, fragment6)

HOST_MACS = {0: "02:00:00:00:03:01", 1: "02:00:00:00:03:11"}
PORTS = [0, 1]
H = HOST_MACS[0]
P = "02:00:00:00:03:02"          # the peer behind eth0: 2001:db8:1::2 (and ::3), fe80::ff:fe00:302
E = Ether(src=P, dst=H)
SRC = "2001:db8:1::2"
PLL = "fe80::ff:fe00:302"
HLL = "fe80::ff:fe00:301"


def udp(dst, tag, sport, size=32, src=SRC, hlim=64):
    return E / IPv6(src=src, dst=dst, hlim=hlim) / UDP(sport=sport, dport=33434) / Raw(payload(tag, size))


def echo(dst, seq, tag, src=SRC, eth=E, size=32):
    return eth / IPv6(src=src, dst=dst, hlim=64) / ICMPv6EchoRequest(id=0x99, seq=seq) / Raw(payload(tag, size))


def ns(target, src=SRC, hlim=255):
    solicited = "ff02::1:ff" + "{:02x}:{:02x}{:02x}".format(*_low24(target))
    mac = "33:33:ff:{:02x}:{:02x}:{:02x}".format(*_low24(target))
    return (Ether(src=P, dst=mac) / IPv6(src=src, dst=solicited, hlim=hlim) /
            ICMPv6ND_NS(tgt=target) / ICMPv6NDOptSrcLLAddr(lladdr=P))


def _low24(addr):
    import socket
    b = socket.inet_pton(socket.AF_INET6, addr)
    return b[13], b[14], b[15]


big_echo = IPv6(src=SRC, dst="2001:db8:1::1", hlim=64) / IPv6ExtHdrFragment(id=0x6000) / \
    ICMPv6EchoRequest(id=0x99, seq=20) / Raw(payload("frag6", 1800))
frags = fragment6(big_echo, 1280)

FRAMES = [
    F(echo("2001:db8:1::1", 1, "echo-g"), "ICMPv6 echo request to 2001:db8:1::1 (host resolves 2001:db8:1::2 first)"),
    F(echo(HLL, 2, "echo-ll", src=PLL), "ICMPv6 echo request to the host's link-local fe80::ff:fe00:301 from fe80::ff:fe00:302"),
    F(echo("2001:db8:2::1", 3, "echo-eth1"), "ICMPv6 echo request to 2001:db8:2::1 (the host's eth1 address, arriving on eth0)"),
    F(echo("2001:db8:1::", 4, "echo-anycast"), "ICMPv6 echo request to 2001:db8:1:: (subnet-router anycast; the host forwards)"),
    F(echo("ff02::1", 5, "echo-mcast", src=PLL, eth=Ether(src=P, dst="33:33:00:00:00:01")),
      "ICMPv6 echo request to ff02::1 (all nodes)"),
    F(udp("2001:db8:1::1", "udp-closed", 42001), "UDP to [2001:db8:1::1]:33434 (closed)"),
    F(E / IPv6(src=SRC, dst="2001:db8:1::1", hlim=64) / TCP(sport=42002, dport=8081, flags="S", seq=7000, window=64800),
      "TCP SYN to [2001:db8:1::1]:8081 (closed)"),
    F(E / frags[0], "ICMPv6 echo request to 2001:db8:1::1, first fragment"),
    F(E / frags[1], "ICMPv6 echo request to 2001:db8:1::1, last fragment (completes it)"),
    F(udp("2001:db8:2::2", "direct", 42003), "UDP to 2001:db8:2::2 (directly connected on eth1)"),
    F(udp("2001:db8:99::5", "via-gw", 42004), "UDP to 2001:db8:99::5 (2001:db8:99::/48 via 2001:db8:2::2)"),
    F(udp("2001:db8:99:9::5", "redirect", 42005),
      "UDP to 2001:db8:99:9::5 (more specific /64 via 2001:db8:1::3, out of eth0 again)",
      remark="forwarded back out of eth0 but no ICMPv6 redirect is sent (unlike IPv4): the redirect target "
             "would be the gateway 2001:db8:1::3, which is not link-local, and ndisc_send_redirect gives up"),
    F(udp("2001:db8:99::5", "hlim1", 42006, hlim=1), "UDP to 2001:db8:99::5 with hop limit 1"),
    F(udp("2001:db8:99::5", "hlim2", 42007, hlim=2), "UDP to 2001:db8:99::5 with hop limit 2"),
    F(udp("2001:db8:dead::1", "unreach", 42008), "UDP to 2001:db8:dead::1 (unreachable route)"),
    F(udp("2001:db8:beef::1", "prohibit", 42009), "UDP to 2001:db8:beef::1 (prohibit route)"),
    F(udp("2001:db8:bad::1", "blackhole", 42010), "UDP to 2001:db8:bad::1 (blackhole route)"),
    F(udp("2001:db8:ffff::1", "noroute", 42011), "UDP to 2001:db8:ffff::1 (no route, no default)"),
    F(udp("2001:db8:99::5", "too-big", 42012, size=1400), "UDP to 2001:db8:99::5, 1448-byte packet (eth1 MTU 1280)"),
    F(udp("2001:db8:99::5", "ll-src", 42013, src=PLL), "UDP to 2001:db8:99::5 from link-local fe80::ff:fe00:302"),
    F(udp("fe80::99", "ll-dst", 42014, src=PLL), "UDP to fe80::99 (link-local, not the host) sent to the host's MAC",
      wait=4.5,
      remark="forwarded (Ip6OutForwDatagrams) back out of eth0 by the fe80::/64 route: 3 neighbour "
             "solicitations, then the queued packet is dropped in neigh_invalidate (NOT_SPECIFIED, where "
             "IPv4 says NEIGH_FAILED) and an ICMPv6 address unreachable is sent; no redirect was seen"),
    F(udp("::1", "loopback", 42015), "UDP to ::1 arriving on eth0"),
    # neighbour solicitations last: the one from 2001:db8:1::2 makes its neighbour entry STALE,
    # and nothing is sent to it afterwards (no DELAY/PROBE during the capture)
    F(ns("2001:db8:1::77"), "neighbour solicitation for 2001:db8:1::77 (not the host)"),
    F(ns("2001:db8:1::1", hlim=64), "neighbour solicitation for 2001:db8:1::1 with hop limit 64 (must be 255)"),
    F(ns("2001:db8:1::1"), "neighbour solicitation for 2001:db8:1::1"),
]
