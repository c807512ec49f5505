#!/usr/bin/python3
"""compare.py A/kernel.json B/kernel.json -- do two recordings of a scenario agree on the verdicts?

The frames of the two runs are aligned on what they are (direction and tcpdump summary without
sequence numbers, timestamps, windows, identifiers and checksums), because the applications do not
always produce the same packets (a FIN sent with or without the last data, a neighbour probe a few
milliseconds either side of the end of the capture). For every aligned pair, what the kernel
decided must be the same: per visit the namespace, input device, hooks, chains with their verdicts
and deciding rule handles and trails, conntrack state names, fate, drop reason and output devices.
Frames present in only one run are listed (as traffic that differed, not as a disagreement).
A pair that differs only in that a visit ends Unknown in one run, a run whose drop watch missed
events (stats.dropsMissed: the kernel skipped its program, so a packet's kfree_skb was never seen),
is listed as lost, not as a disagreement: the judge does not judge such a frame.
The TCP connections the runs listed after the traffic (ss -tan, listeners left out) are compared the
same way: one in both runs must be in the same state; one in only one run is listed.
Exit status 0 when every aligned pair agrees, every connection of both runs is in the same state and
at most 10% of the frames are unaligned."""
import json
import re
import sys


def visit_key(v):
    chains = []
    for c in v.get("chains", []):
        chains.append((c["family"], c["table"], c["chain"], c["verdict"], c["by"],
                       (c.get("rule") or {}).get("handle"),
                       tuple((t.get("chain"), t.get("handle"), t.get("verdict"), t.get("end"), t.get("policy"))
                             for t in c.get("trail", [])),
                       (c.get("ct") or {}).get("state")))
    return (v["ns"], v.get("in"), v.get("origin"), tuple(v.get("hooks", [])), tuple(chains), v["fate"],
            v.get("reason"), tuple(v.get("out", [])), (v.get("ct") or {}).get("state"))


def shape(summary):
    s = re.sub(r"\b(seq|ack|val|ecr|id|win|cksum)\s+[\d:]+", r"\1 N", summary)
    s = re.sub(r"options \[[^]]*\]", "options [...]", s)
    # ports conntrack picks at random when it has to remap a source port
    s = re.sub(r"(\d+\.\d+\.\d+\.\d+)\.(\d{4,5})\b", lambda m: m.group(1) + ".P", s)
    return s


def frame_key(f):
    return (f.get("direction"), shape(f.get("summary", "")), f.get("attributed"), f.get("fate"), f.get("reason"),
            tuple(visit_key(v) for v in f.get("path", [])))


def lost_in(a, b, fa, fb):
    """"A" or "B" when frames fa and fb differ only in visits that end Unknown in that run (and
    the run's drop watch missed events), else None."""
    pa, pb = fa.get("path", []), fb.get("path", [])
    if len(pa) != len(pb) or fa.get("direction") != fb.get("direction"):
        return None
    for name, run, mine, other in (("A", a, pa, pb), ("B", b, pb, pa)):
        if not run.get("stats", {}).get("dropsMissed") or not any(m["fate"] == "Unknown" for m in mine):
            continue
        unknown = lambda v: visit_key({k: x for k, x in v.items() if k != "reason"} | {"fate": "Unknown"})
        if all(visit_key(m) == (unknown(o) if m["fate"] == "Unknown" else visit_key(o)) for m, o in zip(mine, other)):
            return name
    return None


def socket_diff(a, b):
    """(connections in another state, connections in one run only) of two recordings' ss -tan listings."""
    def conns(doc):
        return {(ns, s["local"], s["peer"]): s["state"] for ns, e in doc.get("namespaces", {}).items()
                for s in e.get("sockets", []) if s["proto"] == "tcp" and s["state"] != "LISTEN"}
    ca, cb = conns(a), conns(b)
    state = [f"{k[0]}: {k[1]} {k[2]}: {ca[k]} vs {cb[k]}" for k in sorted(ca.keys() & cb.keys()) if ca[k] != cb[k]]
    one = [f"{'A' if k in ca else 'B'}: {k[0]}: {(ca | cb)[k]} {k[1]} {k[2]}" for k in sorted(ca.keys() ^ cb.keys())]
    return state, one


def main():
    import difflib
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    fa, fb = a["frames"], b["frames"]
    sa = [(f.get("direction"), shape(f.get("summary", ""))) for f in fa]
    sb = [(f.get("direction"), shape(f.get("summary", ""))) for f in fb]
    sm = difflib.SequenceMatcher(a=sa, b=sb, autojunk=False)
    bad = 0
    paired = 0
    only = []
    lost = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                paired += 1
                ka, kb = frame_key(fa[i]), frame_key(fb[j])
                if ka != kb and (run := lost_in(a, b, fa[i], fb[j])):
                    lost.append(f"A{i + 1} / B{j + 1}: {fa[i]['summary']} (Unknown in {run}: its drop watch missed "
                                f"{(a if run == 'A' else b)['stats']['dropsMissed']} events)")
                elif ka != kb:
                    bad += 1
                    print(f"frame A{i + 1} / B{j + 1} differs: {fa[i]['summary']}")
                    for n, (x, y) in enumerate(zip(ka, kb)):
                        if x != y:
                            print(f"    field {n}: {x!r}\n          vs {y!r}")
        else:
            only += [f"A{i + 1}: {fa[i]['summary']}" for i in range(i1, i2)]
            only += [f"B{j + 1}: {fb[j]['summary']}" for j in range(j1, j2)]
    for o in only:
        print(f"  only in one run: {o}")
    for o in lost:
        print(f"  lost in one run: {o}")
    sock_state, sock_one = socket_diff(a, b)
    for o in sock_state:
        print(f"socket differs: {o}")
    for o in sock_one:
        print(f"  socket in one run only: {o}")
    bad += len(sock_state)
    total = max(len(fa), len(fb), 1)
    print(f"{a['scenario']}: {len(fa)} vs {len(fb)} frames, {paired} aligned, {bad} disagree, {len(only)} in one run only"
          + (f", {len(lost)} lost in one run" if lost else ""))
    sys.exit(1 if bad or len(only) > total // 10 else 0)


if __name__ == "__main__":
    main()
