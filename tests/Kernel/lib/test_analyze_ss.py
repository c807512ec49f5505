#!/usr/bin/python3
"""Checks of how analyze.py reads `ss -tanH` / `ss -uanH` (no root needed): ss's state names become the
kernel's, endpoints are written as Get-PktFlowSocket writes them (wildcards *, IPv4-mapped addresses
as IPv4, IPv6 in brackets, a bound device dropped).
python3 test_analyze_ss.py"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402

TCP = """\
LISTEN    0      128               0.0.0.0:22               0.0.0.0:*
LISTEN    0      4096                    *:8080                   *:*
LISTEN    0      10         10.1.0.1%eth0:9000              0.0.0.0:*
ESTAB     0      0               10.1.0.1:22               10.1.0.2:40001
TIME-WAIT 0      0      [::ffff:10.1.0.1]:9000 [::ffff:10.1.0.2]:40004
FIN-WAIT-2 0     0         [2001:db8::1]:80     [2001:db8::2]:40010
SYN-RECV  0      0      [fe80::1%eth0]:80     [fe80::2]:40011
"""
UDP = "UNCONN    0      0                 0.0.0.0:5000             0.0.0.0:*\n"


def parse(text, proto):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
    try:
        return analyze.parse_ss(f.name, proto)
    finally:
        os.unlink(f.name)


tcp = {(s["local"], s["peer"]): s for s in parse(TCP, "tcp")}
udp = parse(UDP, "udp")
cases = [
    ("a listener's wildcard address and peer", tcp.get(("*:22", "*:*"), {}).get("state"), "LISTEN"),
    ("ss's * is the same wildcard", ("*:8080", "*:*") in tcp, True),
    ("a device-bound listener loses %eth0", ("10.1.0.1:9000", "*:*") in tcp, True),
    ("ESTAB is ESTABLISHED", tcp.get(("10.1.0.1:22", "10.1.0.2:40001"), {}).get("state"), "ESTABLISHED"),
    ("IPv4-mapped addresses are IPv4; TIME-WAIT is TIME_WAIT",
     tcp.get(("10.1.0.1:9000", "10.1.0.2:40004"), {}).get("state"), "TIME_WAIT"),
    ("IPv6 keeps its brackets; FIN-WAIT-2 is FIN_WAIT2",
     tcp.get(("[2001:db8::1]:80", "[2001:db8::2]:40010"), {}).get("state"), "FIN_WAIT2"),
    ("a scoped IPv6 address loses its scope", tcp.get(("[fe80::1]:80", "[fe80::2]:40011"), {}).get("state"), "SYN_RECV"),
    ("every line is read", len(tcp), 7),
    ("udp sockets carry their protocol", [(s["proto"], s["state"], s["local"]) for s in udp], [("udp", "UNCONN", "*:5000")]),
]
checks.run(cases)
