#!/usr/bin/python3
"""Checks of how analyze.py reads `conntrack -L -o id[,labels]` (no root needed): zone=, zone-orig=,
zone-reply= and labels= go with the entry, the connection id after use= is not a tuple's ICMP id.
python3 test_analyze_conntrack.py"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402

LINES = """\
icmp     1 13 src=10.1.0.2 dst=203.0.113.53 type=8 code=0 id=1234 zone-orig=1 src=203.0.113.53 dst=203.0.113.1 type=0 code=0 id=60741 mark=2 use=1 id=1831787681 labels=link-c1,web
udp      17 10 src=10.1.0.2 dst=203.0.113.53 sport=5000 dport=53 [UNREPLIED] src=203.0.113.53 dst=10.1.0.2 sport=53 dport=5000 zone-reply=4 mark=0 use=1 id=2956310949
tcp      6 105 TIME_WAIT src=10.1.0.2 dst=203.0.113.53 sport=4000 dport=80 src=203.0.113.53 dst=10.1.0.2 sport=80 dport=4000 [ASSURED] mark=0 zone=7 use=1 id=2302894552
"""

with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    f.write(LINES)
entries = {e["proto"]: e for e in analyze.parse_conntrack(f.name)}
os.unlink(f.name)
icmp, udp, tcp = entries["icmp"], entries["udp"], entries["tcp"]
cases = [
    ("zone-orig is the entry's, not the original tuple's", (icmp.get("zoneOrig"), "zone-orig" in icmp["original"]), (1, False)),
    ("labels are a list of names", icmp.get("labels"), ["link-c1", "web"]),
    ("the id after use= is the connection's", icmp.get("id"), 1831787681),
    ("the reply tuple keeps its ICMP id", icmp["reply"].get("id"), 60741),
    ("zone-reply is the entry's", (udp.get("zoneReply"), "zone-reply" in udp["reply"]), (4, False)),
    ("no labels= no labels", "labels" in udp, False),
    ("zone= of both directions", (tcp.get("zone"), "zoneOrig" in tcp), (7, False)),
]
checks.run(cases)
