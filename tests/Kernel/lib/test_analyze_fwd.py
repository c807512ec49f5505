#!/usr/bin/python3
"""Checks of how analyze.py follows a packet `fwd to DEV` sent from a netdev ingress chain (no root
needed): the copy that leaves DEV passed no chain, and belongs to the stolen packet (nft-expr-misc).
python3 test_analyze_fwd.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402


class Ns:
    def __init__(self, rule):
        self.name = "host"
        self.rules = {("netdev", "edge", "in", 2): rule}


class Cr:
    """A netdev ingress chain run whose rule 2 stole the packet."""
    family, table, chain = "netdev", "edge", "in"

    def result(self):
        return "stolen", "rule", {"chain": "in", "handle": 2}


class Copy:
    def __init__(self, dev, l3, t):
        self.dev, self.l3, self.t = dev, l3, t


class J:
    def __init__(self):
        self.tx = []


class V:
    def __init__(self, crs=(), rx=(), tx=()):
        self.crs, self.rx, self.tx = list(crs), list(rx), list(tx)
        self.drops, self.frees, self.journeys = [], [], [J()]
        self.t = min(c.t for c in self.rx + self.tx)


udp = bytes.fromhex("4500002100004000401100000a0100020a020002a4421b8e000d0000") + b"x7050"


def merged(rule, tx_dev="eth1", tx_t=1_000_000, tx_bytes=udp):
    ns = Ns(rule)
    stolen = V(crs=[Cr()], rx=[Copy("veth-c", udp, 0)])
    sent = V(tx=[Copy(tx_dev, tx_bytes, tx_t)])
    visits = [stolen, sent]
    analyze.merge_fwd(ns, visits)
    return len(visits), [c.dev for c in stolen.tx]


checks.run([
    ("fwd to eth1: the copy sent is the stolen packet's", merged('udp dport 7050 counter fwd to "eth1"'), (1, ["eth1"])),
    ("another stolen verdict (synproxy) keeps them apart", merged("tcp dport 80 synproxy"), (2, [])),
    ("other bytes are another packet", merged('udp dport 7050 fwd to "eth1"', tx_bytes=udp[:-1] + b"1"), (2, [])),
    ("sent 100 ms later: another packet", merged('udp dport 7050 fwd to "eth1"', tx_t=100_000_000), (2, [])),
    ("sent back on the device it came in on: not merged", merged('udp dport 7050 fwd to "veth-c"', tx_dev="veth-c"), (2, [])),
])
