#!/usr/bin/python3
"""Checks of compare.py's lost frames and socket listings (no root needed): python3 test_compare.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
import checks  # noqa: E402


def frame(fate, reason=None):
    h2 = {"ns": "h2", "in": "eth0", "hooks": ["netdev ingress@eth0"], "chains": [], "fate": fate}
    if reason:
        h2["reason"] = reason
    host = {"ns": "host", "origin": "local", "hooks": ["bridge output@port2"], "chains": [], "fate": "Transmitted", "out": ["port2"]}
    return {"direction": "out", "summary": "STP 802.1d, Topology Change", "path": [host, h2]}


run = lambda missed: {"stats": {"dropsMissed": missed} if missed else {}}
dropped, unknown, delivered = frame("Dropped", "NOT_SPECIFIED"), frame("Unknown"), frame("Delivered")
cases = [
    ("Unknown in a run that missed drop events is lost there", compare.lost_in(run(0), run(2), dropped, unknown), "B"),
    ("either way round", compare.lost_in(run(1), run(0), unknown, dropped), "A"),
    ("not when that run missed none", compare.lost_in(run(0), run(0), dropped, unknown), None),
    ("not when the other visits differ too",
     compare.lost_in(run(0), run(2), dropped, dict(unknown, path=[dict(unknown["path"][0], out=["port1"]), unknown["path"][1]])), None),
    ("a different known fate is a disagreement", compare.lost_in(run(2), run(2), dropped, delivered), None),
]


def listing(*socks):
    return {"namespaces": {"host": {"sockets": [{"proto": p, "state": st, "local": l, "peer": r} for p, st, l, r in socks]}}}


tw = ("tcp", "TIME_WAIT", "10.1.0.1:9000", "10.1.0.2:40004")
cases += [
    ("the same connections in the same states", compare.socket_diff(listing(tw), listing(tw)), ([], [])),
    ("a connection in another state differs",
     compare.socket_diff(listing(tw), listing(("tcp", "FIN_WAIT2") + tw[2:]))[0], ["host: 10.1.0.1:9000 10.1.0.2:40004: TIME_WAIT vs FIN_WAIT2"]),
    ("one in one run only is listed, not a difference",
     compare.socket_diff(listing(tw), listing()), ([], ["A: host: TIME_WAIT 10.1.0.1:9000 10.1.0.2:40004"])),
    ("listeners and UDP sockets are left out",
     compare.socket_diff(listing(("tcp", "LISTEN", "*:22", "*:*"), ("udp", "UNCONN", "*:53", "*:*")), listing()), ([], [])),
    ("older recordings list none", compare.socket_diff({}, {}), ([], [])),
]
checks.run(cases)
