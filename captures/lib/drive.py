#!/usr/bin/python3
"""Send a scenario's frames to the host under test one at a time and record what its kernel did.

Called by lib/common.sh (pf_drive) after the namespaces exist and lab.sh has been applied.

For every frame listed in <dir>/frames.py (FRAMES):
  * snapshot the host namespace: `nstat -asz -j`, `ip -s -j link` (per device packet counters);
  * send the frame (lib/sender.py, an AF_PACKET socket in the peer namespace behind the host's
    ethN, default eth0; the sent bytes are also written to <work>/sent.pcap);
  * wait (frame["wait"] seconds), snapshot again.
The tracepoint skb:kfree_skb is watched with bpftrace for the whole run; only drops of skbs whose
device (or else socket) belongs to the host namespace are kept, and each is attributed to the frame
whose window (monotonic clock) it falls in.
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
import struct
import subprocess
import sys
import time

from scapy.all import ARP, IP, IPv6, Ether, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6ND_RA, \
    ICMPv6ND_Redirect, PcapReader, Raw, raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
NS_NOISE_REASONS = {"NETFILTER_DROP"}  # peers drop what they must not answer with nftables; the host runs none


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def write_pcap(path, frames):
    """Classic little-endian microsecond pcap, Ethernet, the given bytes unchanged."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, b in enumerate(frames):
            f.write(struct.pack("<IIII", k + 1, 0, len(b), len(b)))
            f.write(b)


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


BPF_PROG = r"""
tracepoint:skb:kfree_skb {
    $skb = (struct sk_buff *)args->skbaddr;
    $ns = (uint32)0;
    if ($skb->dev != 0) {
        $ns = $skb->dev->nd_net.net->ns.inum;
    } else if ($skb->sk != 0) {
        $ns = $skb->sk->__sk_common.skc_net.net->ns.inum;
    }
    if ($ns == NSINUM || $ns == 0) {
        printf("DROP %llu %u %d %s %u\n", nsecs, $ns, args->reason, ksym(args->location), args->protocol);
    }
}
"""


def drop_reason_names():
    """enum skb_drop_reason value -> name, from the tracepoint's own print format."""
    for base in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        p = os.path.join(base, "events/skb/kfree_skb/format")
        if os.path.exists(p):
            with open(p) as f:
                return {int(a): b for a, b in re.findall(r'\{ (\d+), "(\w+)" \}', f.read())}
    return {}


def start_bpftrace(work, ns_inum):
    prog = BPF_PROG.replace("NSINUM", str(ns_inum))
    out = os.path.join(work, "drops.txt")
    errf = open(os.path.join(work, "bpftrace.err"), "w+")
    proc = subprocess.Popen(["timeout", "300", "bpftrace", "-o", out, "-e", prog],
                            stdout=subprocess.DEVNULL, stderr=errf)
    STARTED.append(proc)
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists(out):
            with open(out) as f:
                if "Attaching" in f.read():
                    return proc, out
        if proc.poll() is not None:
            errf.seek(0)
            sys.exit("bpftrace failed: " + errf.read())
        time.sleep(0.1)
    sys.exit("bpftrace did not attach")


def read_drops(path, ns_inum, names):
    drops = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 6 or p[0] != "DROP":
                continue
            t, ns, reason, loc, proto = int(p[1]), int(p[2]), int(p[3]), p[4], int(p[5])
            drops.append({"t": t, "ns": ns, "reason": names.get(reason, str(reason)),
                          "location": loc.split("+")[0], "protocol": f"0x{proto:04x}"})
    return drops


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
    # one line per frame: drop the hex dump tcpdump adds for unknown ethertypes
    return [line for line in out.stdout.splitlines() if not line.startswith("\t")]


def parse(b):
    """Ether(b), or just the Ethernet header and raw bytes when scapy cannot dissect the rest."""
    try:
        return Ether(b)
    except Exception:
        p = Ether(b[:14])
        p.remove_payload()
        return p / Raw(b[14:])


def read_pcap(path):
    frames = []
    with PcapReader(path) as r:
        for p in r:
            q = parse(raw(p))
            q.time = p.time
            frames.append(q)
    return frames


def route_get(host, pkt, iif):
    fam, l3 = l3_of(pkt)
    if fam is None:
        return None
    try:
        if fam == "4" and (l3.version != 4 or l3.ihl < 5):
            return None
        if fam == "6" and (l3.version != 6 or l3.dst.lower().startswith("ff")):
            return None     # `ip -6 route get <multicast> iif ...` answers EMSGSIZE
        cmd = ["ip", "-n", host] + (["-6"] if fam == "6" else []) + \
              ["route", "get", l3.dst, "from", l3.src, "iif", iif]
    except Exception:
        return None
    r = run(cmd, check=False)
    text = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return " ".join(t.strip() for t in text) if text else None


STARTED = []   # every subprocess this script starts; stopped on the way out whatever happens


def stop_all():
    for p in STARTED:
        if p.poll() is None:
            p.terminate()
    for p in STARTED:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    try:
        drive()
    finally:
        stop_all()


def drive():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--peer-prefix", required=True)
    args = ap.parse_args()

    mod = load_frames(os.path.join(args.dir, "frames.py"))
    frames = mod.FRAMES
    ports = sorted(set([0] + list(getattr(mod, "PORTS", [0]))))
    host_macs = {n: getattr(mod, "HOST_MACS")[n] for n in ports}

    # skb:kfree_skb, only for skbs whose device (or socket) is in the host namespace
    ns_inum = os.stat(f"/run/netns/{args.host}").st_ino
    names = drop_reason_names()
    bpf, drops_path = start_bpftrace(args.work, ns_inum)

    # the exact bytes of every frame; parse them back so that every field is filled in
    for fr in frames:
        fr["bytes"] = raw(fr["pkt"])
        fr["pkt"] = parse(fr["bytes"])
    write_pcap(os.path.join(args.work, "sent.pcap"), [fr["bytes"] for fr in frames])

    # capture on every peer end, both directions
    dumps = {}
    for n in ports:
        path = os.path.join(args.work, f"p{n}.pcap")
        errf = open(os.path.join(args.work, f"p{n}.tcpdump.err"), "w+")
        proc = subprocess.Popen(["timeout", "300", "ip", "netns", "exec", f"{args.peer_prefix}{n}",
                                 "tcpdump", "--immediate-mode", "-U", "-nn", "-i", f"p{n}", "-w", path],
                                stdout=subprocess.DEVNULL, stderr=errf)
        STARTED.append(proc)
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
    senders = {}
    for n in sorted(set(fr.get("port", 0) for fr in frames)):
        senders[n] = subprocess.Popen(["timeout", "300", "ip", "netns", "exec", f"{args.peer_prefix}{n}",
                                       PY, os.path.join(HERE, "sender.py"), f"p{n}"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        STARTED.append(senders[n])
    time.sleep(0.3)

    records = []
    for i, fr in enumerate(frames):
        port = fr.get("port", 0)
        c0, l0 = nstat(args.host), link_stats(args.host)
        t0, m0 = time.time(), time.monotonic_ns()
        snd = senders[port]
        snd.stdin.write(fr["bytes"].hex() + "\n")
        snd.stdin.flush()
        ack = snd.stdout.readline().split()
        if ack != ["ok", str(len(fr["bytes"]))]:
            sys.exit(f"sender failed on frame {i + 1}: {ack}")
        time.sleep(fr.get("wait", 0.25))
        t1, m1 = time.time(), time.monotonic_ns()
        c1, l1 = nstat(args.host), link_stats(args.host)
        dev = {}
        for ifname in l1:
            d = delta(l0.get(ifname, {}), l1[ifname])
            if d:
                dev[ifname] = d
        records.append({"t0": t0, "t1": t1, "m0": m0, "m1": m1, "counters": delta(c0, c1), "dev": dev})
        print(f"  frame {i + 1}: {fr['note']}: {delta(c0, c1)}", file=sys.stderr)

    for snd in senders.values():
        snd.stdin.close()
        snd.wait(timeout=20)
    time.sleep(0.3)
    bpf.send_signal(signal.SIGINT)
    bpf.wait(timeout=30)
    all_drops = read_drops(drops_path, ns_inum, names)
    unattributed = []
    for k, rec in enumerate(records):
        rec["drops"] = []
        for d in all_drops:
            if rec["m0"] <= d["t"] <= rec["m1"]:
                if d["ns"] == 0:
                    # no device and no socket: cannot tell which namespace it belongs to
                    unattributed.append({"sent": k + 1, "reason": d["reason"], "location": d["location"],
                                         "protocol": d["protocol"]})
                    continue
                rec["drops"].append({k: d[k] for k in ("reason", "location", "protocol")})
    for n, (proc, path, errf) in dumps.items():
        proc.send_signal(signal.SIGINT)
    for n, (proc, path, errf) in dumps.items():
        proc.wait(timeout=20)      # `timeout` passes the SIGINT on to tcpdump, which flushes and exits
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
        want = fr["bytes"]
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
        # ND messages the peers' kernels sent to the host during this window (answers to the host's
        # own solicitations) are delivered to ICMPv6 too: do not count them as this frame's delivery
        peer_nd = 0
        for n in ports:
            for k, cf in enumerate(caps[n]):
                if cf[Ether].src == host_macs[n] or not is_nd(cf):
                    continue
                if n == 0:
                    if owner.get(k) == i:
                        peer_nd += 1
                elif rec["t0"] - 0.001 <= float(cf.time) <= rec["t1"] + 0.001:
                    peer_nd += 1
        delivered = c.get("IpInDelivers", 0) > 0 or c.get("Ip6InDelivers", 0) - peer_nd > 0
        fwd_count = c.get("IpForwDatagrams", 0) + c.get("Ip6OutForwDatagrams", 0)
        rg = route_get(host, pkt, f"eth{port}")
        if fwd_dev:
            fate = "Forwarded"
        elif drops:
            fate = "Delivered" if delivered and not is_nd(pkt) else "Dropped"
        elif pkt.haslayer(ARP) or is_nd(pkt):
            fate = "Consumed"
        elif delivered:
            fate = "Delivered"
        elif c.get("IpReasmReqds", 0) > 0 or c.get("Ip6ReasmReqds", 0) > 0:
            fate = "Queued"      # held by IP reassembly, delivered with a later fragment
        else:
            fate = "Dropped"
        if fate == "Delivered" and is_nd(pkt) and not drops:
            fate = "Consumed"
        if not fwd_dev and fwd_count > 0 and rg:
            # the forwarding path chose a device but the packet did not leave (MTU, neighbour...)
            m = re.search(r"\bdev (\S+)", rg)
            if m:
                fwd_dev = m.group(1)
        entry = {
            "direction": "in",
            "note": fr["note"],
            "fate": fate,
            "reason": drops[0]["reason"] if drops else None,
        }
        if fwd_dev:
            entry["outDev"] = fwd_dev
        entry["counters"] = c
        entry["devCounters"] = rec["dev"]
        entry["dropReason"] = drops[0]["reason"] if drops else None
        entry["drops"] = drops
        if rg is not None:
            entry["routeGet"] = rg
        if fr.get("remark"):
            entry["remark"] = fr["remark"]
        for k, v in fr.get("override", {}).items():
            entry[k] = v
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
                e["fate"] = "Sent"
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
    if unattributed:
        doc["unattributedDrops"] = unattributed
    if extra:
        doc["framesOnOtherPorts"] = extra
    if other:
        doc["otherPorts"] = other
    with open(os.path.join(args.dir, "kernel.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
