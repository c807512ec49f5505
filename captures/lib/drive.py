#!/usr/bin/python3
"""Send a scenario's frames to the host under test one at a time and record what its kernel did.

Called by lib/common.sh (pf_drive) after the namespaces exist and lab.sh has been applied.

For every frame listed in <dir>/frames.py (FRAMES):
  * snapshot the host namespace: `nstat -asz -j`, `ip -s -j link` (per device packet counters);
  * clear the skb:kfree_skb trace buffer of our own tracefs instance;
  * send the frame with tcpreplay from the peer namespace behind the host's ethN (default eth0);
  * wait (frame["wait"] seconds), snapshot again, read the drop events.
Meanwhile tcpdump runs on every peer end (both directions). The capture of the peer end of eth0 is
kept as <name>.pcap, the others as <name>-ethN.pcap. Finally kernel.json is written, describing
each frame of <name>.pcap.
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time

from scapy.all import ARP, IP, IPv6, Ether, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6ND_RA, \
    ICMPv6ND_Redirect, PcapReader, wrpcap, raw  # noqa: E402

NS_NOISE_REASONS = {"NETFILTER_DROP"}  # peers drop what they must not answer with nftables; the host runs none


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def nstat(host):
    out = run(["ip", "netns", "exec", host, "nstat", "-asz", "-j"]).stdout
    return json.loads(out)["kernel"]


def link_stats(host):
    out = run(["ip", "-n", host, "-s", "-j", "link", "show"]).stdout
    res = {}
    for link in json.loads(out):
        st = link.get("stats64", {})
        flat = {}
        for direction in ("rx", "tx"):
            for k, v in st.get(direction, {}).items():
                if isinstance(v, int):
                    flat[f"{direction}_{k}"] = v
        res[link["ifname"]] = flat
    return res


def delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0) != 0}


TRACE_RE = re.compile(r"kfree_skb: skbaddr=\S+ rx_sk=\S+ protocol=(\d+) location=(\S+) reason: (\S+)")


def read_trace(tdir):
    with open(os.path.join(tdir, "trace")) as f:
        lines = f.read().splitlines()
    drops = []
    for line in lines:
        m = TRACE_RE.search(line)
        if not m:
            continue
        proto, loc, reason = int(m.group(1)), m.group(2), m.group(3)
        if reason in NS_NOISE_REASONS:
            continue
        drops.append({"reason": reason, "location": loc.split("+")[0], "protocol": f"0x{proto:04x}"})
    return drops


def clear_trace(tdir):
    with open(os.path.join(tdir, "trace"), "w") as f:
        f.write("")


def load_frames(path):
    spec = importlib.util.spec_from_file_location("frames", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def is_nd(pkt):
    return any(pkt.haslayer(l) for l in (ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6ND_Redirect))


def l3_of(pkt):
    """Return ('4'|'6', layer) if the frame has a parsable IP header we can use for matching."""
    if pkt.haslayer(IP) and pkt[Ether].type == 0x0800:
        return "4", pkt[IP]
    if pkt.haslayer(IPv6) and pkt[Ether].type == 0x86DD:
        return "6", pkt[IPv6]
    return None, None


def forwarded_copy(sent, cand):
    """Is the captured frame `cand` the host's forwarded copy (or a fragment of it) of `sent`?"""
    fam, s = l3_of(sent)
    fam2, c = l3_of(cand)
    if fam is None or fam != fam2:
        return False
    if fam == "4":
        return (s.src == c.src and s.dst == c.dst and s.id == c.id and s.proto == c.proto
                and c.ttl == s.ttl - 1)
    return (s.src == c.src and s.dst == c.dst and s.nh == c.nh and c.hlim == s.hlim - 1
            and raw(s.payload)[:16] == raw(c.payload)[:16])


def summaries(pcap):
    out = run(["tcpdump", "-n", "-e", "-t", "-r", pcap], check=False)
    return out.stdout.splitlines()


def read_pcap(path):
    frames = []
    with PcapReader(path) as r:
        for p in r:
            frames.append(p)
    return frames


def route_get(host, pkt, iif):
    fam, l3 = l3_of(pkt)
    if fam is None:
        return None
    try:
        if fam == "4" and (l3.version != 4 or l3.ihl < 5):
            return None
        cmd = ["ip", "-n", host] + (["-6"] if fam == "6" else []) + \
              ["route", "get", l3.dst, "from", l3.src, "iif", iif]
    except Exception:
        return None
    r = run(cmd, check=False)
    text = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return " ".join(t.strip() for t in text) if text else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--peer-prefix", required=True)
    ap.add_argument("--trace", required=True)
    args = ap.parse_args()

    mod = load_frames(os.path.join(args.dir, "frames.py"))
    frames = mod.FRAMES
    ports = sorted(set([0] + list(getattr(mod, "PORTS", [0]))))
    host_macs = {n: getattr(mod, "HOST_MACS")[n] for n in ports}

    # tracefs instance of our own: only skb:kfree_skb
    tdir = args.trace
    with open(os.path.join(tdir, "buffer_size_kb"), "w") as f:
        f.write("256")
    with open(os.path.join(tdir, "events/skb/kfree_skb/enable"), "w") as f:
        f.write("1")

    # one pcap per frame for tcpreplay
    for i, fr in enumerate(frames):
        wrpcap(os.path.join(args.work, f"send{i + 1:03d}.pcap"), [fr["pkt"]])

    # capture on every peer end, both directions
    dumps = {}
    for n in ports:
        path = os.path.join(args.work, f"p{n}.pcap")
        errf = open(os.path.join(args.work, f"p{n}.tcpdump.err"), "w+")
        proc = subprocess.Popen(["timeout", "300", "ip", "netns", "exec", f"{args.peer_prefix}{n}",
                                 "tcpdump", "-U", "-nn", "-i", f"p{n}", "-w", path],
                                stdout=subprocess.DEVNULL, stderr=errf)
        dumps[n] = (proc, path, errf)
    for n, (proc, path, errf) in dumps.items():
        deadline = time.time() + 10
        while time.time() < deadline:
            errf.seek(0)
            if "listening on" in errf.read():
                break
            time.sleep(0.05)
        else:
            sys.exit(f"tcpdump on p{n} did not start")
    time.sleep(0.3)

    records = []
    for i, fr in enumerate(frames):
        port = fr.get("port", 0)
        c0, l0 = nstat(args.host), link_stats(args.host)
        clear_trace(tdir)
        t0 = time.time()
        run(["timeout", "20", "ip", "netns", "exec", f"{args.peer_prefix}{port}",
             "tcpreplay", "-q", "-i", f"p{port}", os.path.join(args.work, f"send{i + 1:03d}.pcap")])
        time.sleep(fr.get("wait", 0.25))
        t1 = time.time()
        drops = read_trace(tdir)
        c1, l1 = nstat(args.host), link_stats(args.host)
        dev = {}
        for ifname in l1:
            d = delta(l0.get(ifname, {}), l1[ifname])
            if d:
                dev[ifname] = d
        records.append({"t0": t0, "t1": t1, "counters": delta(c0, c1), "dev": dev, "drops": drops})
        print(f"  frame {i + 1}: {fr['note']}: {delta(c0, c1)} {[d['reason'] for d in drops]}", file=sys.stderr)

    time.sleep(0.3)
    with open(os.path.join(tdir, "events/skb/kfree_skb/enable"), "w") as f:
        f.write("0")
    for n, (proc, path, errf) in dumps.items():
        proc.send_signal(signal.SIGINT)
    for n, (proc, path, errf) in dumps.items():
        proc.wait(timeout=20)
        # `timeout` forwards SIGINT? it does not: make sure tcpdump itself is gone
    name = args.scenario
    kept = {}
    for n, (proc, path, errf) in dumps.items():
        dst = os.path.join(args.dir, f"{name}.pcap" if n == 0 else f"{name}-eth{n}.pcap")
        with open(path, "rb") as s, open(dst, "wb") as d:
            d.write(s.read())
        kept[n] = dst

    caps = {n: read_pcap(p) for n, p in kept.items()}
    sums = {n: summaries(p) for n, p in kept.items()}
    for n in caps:
        if len(caps[n]) != len(sums[n]):
            sys.exit(f"tcpdump summary count mismatch on eth{n}")

    # walk the eth0 capture: locate each sent frame (exact bytes, in order)
    cap0 = caps[0]
    sent_at = {}   # frame index (0-based in FRAMES) -> capture index (0-based)
    j = 0
    for i, fr in enumerate(frames):
        if fr.get("port", 0) != 0:
            continue
        want = raw(fr["pkt"])
        while j < len(cap0) and raw(cap0[j]) != want:
            j += 1
        if j == len(cap0):
            sys.exit(f"sent frame {i + 1} ({fr['note']}) not found in the capture, in order")
        sent_at[i] = j
        j += 1
    owner = {}      # capture index -> FRAMES index whose window it belongs to
    order = sorted(sent_at.items(), key=lambda kv: kv[1])
    for pos, (i, j) in enumerate(order):
        end = order[pos + 1][1] if pos + 1 < len(order) else len(cap0)
        for k in range(j + 1, end):
            owner[k] = i
    sent_idx = {j: i for i, j in sent_at.items()}

    host = args.host
    out_frames = []
    per_sent = {}
    for i, fr in enumerate(frames):
        rec = records[i]
        port = fr.get("port", 0)
        pkt = fr["pkt"]
        # frames in other captures during this frame's window
        left_on = {}
        fwd_dev = None
        for n in ports:
            for k, c in enumerate(caps[n]):
                if n == 0:
                    if owner.get(k) != i:
                        continue
                else:
                    ts = float(c.time)
                    if not (rec["t0"] - 0.001 <= ts <= rec["t1"] + 0.001):
                        continue
                if c[Ether].src == host_macs[n]:
                    left_on.setdefault(f"eth{n}", []).append(k + 1)
                    if forwarded_copy(pkt, c):
                        fwd_dev = f"eth{n}"
        c = rec["counters"]
        drops = rec["drops"]
        delivered = c.get("IpInDelivers", 0) > 0 or c.get("Ip6InDelivers", 0) > 0
        if fwd_dev:
            fate = "Forwarded"
        elif drops:
            fate = "Delivered" if delivered and not is_nd(pkt) else "Dropped"
        elif pkt.haslayer(ARP) or is_nd(pkt):
            fate = "Consumed"
        elif delivered:
            fate = "Delivered"
        else:
            fate = "Dropped"
        if fate == "Delivered" and is_nd(pkt) and not drops:
            fate = "Consumed"
        entry = {
            "direction": "in",
            "note": fr["note"],
            "fate": fate,
        }
        if drops:
            entry["reason"] = drops[0]["reason"]
        if fwd_dev:
            entry["outDev"] = fwd_dev
        entry["counters"] = c
        entry["devCounters"] = rec["dev"]
        entry["dropReason"] = drops[0]["reason"] if drops else None
        entry["drops"] = drops
        rg = route_get(host, pkt, f"eth{port}")
        if rg is not None:
            entry["routeGet"] = rg
        if port != 0:
            entry["inDev"] = f"eth{port}"
        entry["leftOn"] = {k: v for k, v in left_on.items() if k != "eth0"}
        per_sent[i] = entry

    for k, c in enumerate(cap0):
        e = {"frame": k + 1}
        if k in sent_idx:
            i = sent_idx[k]
            e["sent"] = i + 1
            e.update(per_sent[i])
            e["responses"] = [m + 1 for m in range(len(cap0)) if owner.get(m) == i]
            e["leftOn"] = e.pop("leftOn")
        else:
            mine = c[Ether].src == host_macs[0]
            e["direction"] = "out" if mine else "in"
            i = owner.get(k)
            if mine:
                e["inResponseTo"] = sent_at[i] + 1 if i is not None else None
                e["kind"] = "forwarded" if i is not None and forwarded_copy(frames[i]["pkt"], c) else "generated"
            else:
                # sent by the peer's kernel (ARP reply / neighbour advertisement to the host's request)
                e["sentBy"] = "peer-kernel"
                e["inWindowOf"] = sent_at[i] + 1 if i is not None else None
                e["fate"] = "Consumed" if (c.haslayer(ARP) or is_nd(c)) else None
                e["note"] = "counters/drops are those of the window of frame inWindowOf"
        e["summary"] = sums[0][k]
        out_frames.append(e)

    # frames sent into the host on other ports are described too (they are not in <name>.pcap)
    extra = []
    for i, fr in enumerate(frames):
        if fr.get("port", 0) != 0:
            e = {"sent": i + 1}
            e.update(per_sent[i])
            extra.append(e)

    other = {}
    for n in ports:
        if n == 0:
            continue
        other[f"eth{n}"] = {"pcap": os.path.basename(kept[n]),
                            "frames": [{"frame": k + 1,
                                        "direction": "out" if c[Ether].src == host_macs[n] else "in",
                                        "summary": sums[n][k]} for k, c in enumerate(caps[n])]}

    doc = {
        "scenario": name,
        "kernel": os.uname().release,
        "made": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "pcap": os.path.basename(kept[0]),
        "hostMacs": {f"eth{n}": m for n, m in host_macs.items()},
        "frames": out_frames,
    }
    if extra:
        doc["framesOnOtherPorts"] = extra
    if other:
        doc["otherPorts"] = other
    with open(os.path.join(args.dir, "kernel.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
