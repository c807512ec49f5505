#!/usr/bin/python3
"""The counters of a namespace's `nft -j list ruleset` in the compact form kernel.json keeps
(tests/scenarios/README.md, "counters"): rule counters and quotas by table, chain and rule handle,
named counters and quotas by name, set elements with a counter by set and element. iptables-nft
tables are nft tables, so their rule counters are here too. The recorder lists the ruleset twice
(before the captures start and after the traffic) and keeps the difference: what the traffic of
the recording counted, not the lab's own packets (DAD, router solicitations) before it.
The recorder's own tables (pfrec_trace) are left out."""
import json

UNITS = {"bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024}


def _bytes(n, unit):
    return int(n) * UNITS.get(unit or "bytes", 1)


def compact(ruleset):
    """The counters of a parsed `nft -j list ruleset`, as a list of dicts keyed by what identifies them."""
    out = []
    for item in ruleset.get("nftables", []):
        (kind, o), = item.items()
        if not isinstance(o, dict) or o.get("table") == "pfrec_trace":
            continue
        base = {"family": o.get("family"), "table": o.get("table")}
        if kind == "counter":
            out.append({**base, "kind": "counter", "name": o["name"], "packets": o.get("packets", 0), "bytes": o.get("bytes", 0)})
        elif kind == "quota":
            out.append({**base, "kind": "quota", "name": o["name"], "bytes": o.get("used", 0)})
        elif kind == "set" or kind == "map":
            for e in o.get("elem", []) or []:
                if not isinstance(e, dict) or "elem" not in e:
                    continue
                c = e["elem"].get("counter")
                if isinstance(c, dict):
                    val = e["elem"].get("val")
                    out.append({**base, "kind": "element", "set": o["name"], "element": val if isinstance(val, (str, int)) else json.dumps(val, sort_keys=True),
                                "packets": c.get("packets", 0), "bytes": c.get("bytes", 0)})
        elif kind == "rule":
            for x in o.get("expr", []):
                if not isinstance(x, dict):
                    continue
                # a counter or quota a map names per packet (counter name ip saddr map @m) is no counter of the rule's
                if isinstance(x.get("counter"), dict) and "packets" in x["counter"]:
                    out.append({**base, "kind": "rule", "chain": o["chain"], "handle": o["handle"],
                                "packets": x["counter"].get("packets", 0), "bytes": x["counter"].get("bytes", 0)})
                elif isinstance(x.get("quota"), dict) and "val" in x["quota"]:
                    q = x["quota"]
                    out.append({**base, "kind": "quota", "chain": o["chain"], "handle": o["handle"], "bytes": _bytes(q.get("used", 0), q.get("used_unit"))})
    return out


def _key(c):
    return (c["family"], c["table"], c["kind"], c.get("chain"), c.get("handle"), c.get("name"), c.get("set"), str(c.get("element")))


def delta(before, after):
    """after minus before, entry by entry (an entry new since before counts from zero)."""
    was = {_key(c): c for c in before}
    out = []
    for c in after:
        b = was.get(_key(c), {})
        d = dict(c)
        for f in ("packets", "bytes"):
            if f in d:
                d[f] = d[f] - b.get(f, 0)
        out.append(d)
    return out


def read(before_path, after_path):
    """The compact difference of two `nft -j list ruleset` files; None when the recording has no listing."""
    try:
        after = compact(json.load(open(after_path)))
    except (OSError, ValueError):
        return None
    try:
        before = compact(json.load(open(before_path)))
    except (OSError, ValueError):
        before = []
    return delta(before, after)
