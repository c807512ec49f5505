#!/usr/bin/python3
"""Checks of lib/counters.py (no root needed): the compact form of `nft -j list ruleset` counters
(rule counters and quotas, named counters and quotas, set element counters; iptables-nft rules; the
recorder's own table left out) and the difference the recorder keeps.
python3 test_counters.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import counters  # noqa: E402


def ruleset(rule_packets, quota_used, named_packets, elem_packets):
    return {"nftables": [
        {"metainfo": {"version": "1.0.6"}},
        {"table": {"family": "inet", "name": "t", "handle": 1}},
        {"counter": {"family": "inet", "name": "c1", "table": "t", "handle": 2, "packets": named_packets, "bytes": 10 * named_packets}},
        {"quota": {"family": "inet", "name": "q1", "table": "t", "handle": 3, "bytes": 100, "used": quota_used, "inv": True}},
        {"set": {"family": "inet", "name": "s", "table": "t", "type": "ipv4_addr", "handle": 4,
                 "elem": [{"elem": {"val": "1.2.3.4", "counter": {"packets": elem_packets, "bytes": 40}}}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "handle": 5, "expr": [{"counter": {"packets": rule_packets, "bytes": 84 * rule_packets}}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "handle": 6, "expr": [{"quota": {"val": 1, "val_unit": "mbytes", "used": 2, "used_unit": "kbytes"}}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "handle": 7, "expr": [{"counter": "c1"}, {"accept": None}]}},
        {"rule": {"family": "inet", "table": "t", "chain": "in", "handle": 8, "expr": [{"counter": {"map": {"key": {"payload": {"protocol": "ip", "field": "saddr"}}, "data": "@cmap"}}},
                                                                                       {"quota": {"map": {"key": {"payload": {"protocol": "udp", "field": "dport"}}, "data": "@qmap"}}}]}},
        {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "1.1.1.1"}},
            {"counter": {"packets": 3, "bytes": 252}}, {"accept": None}]}},
        {"rule": {"family": "inet", "table": "pfrec_trace", "chain": "pre", "handle": 2, "expr": [{"counter": {"packets": 9, "bytes": 9}}]}},
    ]}


after = counters.compact(ruleset(5, 70, 4, 2))
by = {(c["kind"], c.get("chain"), c.get("handle"), c.get("name"), c.get("set")): c for c in after}
d = {(c["kind"], c.get("chain"), c.get("handle"), c.get("name"), c.get("set")): c for c in counters.delta(counters.compact(ruleset(2, 30, 1, 2)), after)}
cases = [
    ("a rule's counter by chain and handle", by[("rule", "in", 5, None, None)]["packets"], 5),
    ("an iptables-nft rule's counter", by[("rule", "INPUT", 2, None, None)]["bytes"], 252),
    ("a named counter", by[("counter", None, None, "c1", None)]["packets"], 4),
    ("a named quota's used bytes", by[("quota", None, None, "q1", None)]["bytes"], 70),
    ("a rule's quota in bytes from its unit", by[("quota", "in", 6, None, None)]["bytes"], 2048),
    ("a set element's counter", by[("element", None, None, None, "s")]["element"], "1.2.3.4"),
    ("a rule naming a counter has none of its own", ("rule", "in", 7, None, None) in by, False),
    ("a counter or quota a map names is none of the rule's", any(c.get("handle") == 8 for c in after), False),
    ("the recorder's trace table is left out", any(c["table"] == "pfrec_trace" for c in after), False),
    ("the difference: what the traffic added", d[("rule", "in", 5, None, None)]["packets"], 3),
    ("the difference of bytes", d[("rule", "in", 5, None, None)]["bytes"], 84 * 3),
    ("the difference of a quota", d[("quota", None, None, "q1", None)]["bytes"], 40),
    ("an element that did not count", d[("element", None, None, None, "s")]["packets"], 0),
    ("a counter new since the first listing counts from zero", counters.delta([], after)[0]["packets"], 4),
]
sys.exit(checks.run(cases))
