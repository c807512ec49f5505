#!/usr/bin/python3
"""Build kernel.json from what tests/Kernel/record.sh collected (its work directory):

  meta.json                  scenario, namespace prefix, wire point, clock offset (realtime - monotonic)
  wire.pcap                  tcpdump -i DEV on the wire point (Ethernet)
  drops.txt                  bpftrace lib/drops.bt: skb:kfree_skb in the scenario's namespaces
  drops.missed               events the drop watch's programs missed (recursion_misses; absent in older work directories)
  ns/NAME/link.json          ip -j -d link (devices, veth peers, bridge ports)
  ns/NAME/listid.txt         ip netns list-id (nsid -> namespace name, to resolve veth peers)
  ns/NAME/ruleset.txt|json   nft -a -s list ruleset / nft -j list ruleset, before the trace tables
  ns/NAME/trace.jsonl        lib/nftrace.py: every nftables trace event, with the raw headers
  ns/NAME/any.pcap           tcpdump -i any (LINUX_SLL2: ifindex and direction of every copy)
  ns/NAME/conntrack.txt      conntrack -L -o id after the traffic
  ns/NAME/conntrack.time     when it was listed (CLOCK_REALTIME seconds, the capture's clock)
  ns/NAME/ss-tcp.txt|ss-udp.txt  ss -tanH / ss -uanH after the traffic (absent in older work directories)
  ns/NAME/ss.time            when they were listed
  lab.time                   when lab.sh ended (CLOCK_REALTIME seconds): STP timers start there

How a frame of wire.pcap is followed (the schema is in tests/scenarios/README.md):
  1. Trace events are grouped into chain runs (a base chain evaluated once for one packet: the
     kernel dumps the packet's headers, devices and conntrack state with the first event of each
     run), chain runs into journeys (one skb's way through one namespace: same trace id, hooks in a
     possible order; a new run of an entry hook that the journey already went through, or anything
     after a drop or a local delivery, starts a new journey: the kernel reuses trace ids), and
     journeys into visits (the frame passed up by a bridge to its own device gets a new trace id;
     flooded clones and fragments get new skbs).
  2. Every copy seen by tcpdump -i any is tied to a journey: a received copy to the journey whose
     first chain run has that input device and the same network and transport header bytes; a sent
     copy to the journey with a chain run on that output device whose header bytes (after NAT, the
     observer chains run last) are the copy's. Identical copies are paired in time order.
  3. A copy sent on a veth is tied to the copy received on its peer (same bytes, next in time).
  4. Drops (skb:kfree_skb) are tied to the latest visit in their namespace whose header bytes
     match the dropped skb's network header; identical packets take their drops in time order.
  5. A wire frame is the copy on the wire device in the wire namespace; its path is followed back to
     where it was made and forward to where it ended. A frame whose copy cannot be tied to a
     journey, or a drop, is recorded with "attributed": false and no path.
"""
import argparse
import copy
import errno
import datetime
import json
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import counters  # noqa: E402

OWN_TABLE = "pfrec_trace"
ENTRY = {("netdev", "ingress"), ("bridge", "prerouting"), ("inet", "prerouting"), ("arp", "input"),
         ("inet", "output"), ("arp", "output"), ("bridge", "output")}
# what may precede an entry hook within one skb's way through a namespace
MAY_PRECEDE = {
    ("netdev", "ingress"): set(),
    ("bridge", "prerouting"): {("netdev", "ingress")},
    ("inet", "prerouting"): {("netdev", "ingress"), ("bridge", "prerouting")},
    ("arp", "input"): {("netdev", "ingress"), ("bridge", "prerouting")},
    ("inet", "output"): set(),
    ("arp", "output"): set(),
    ("bridge", "output"): {("inet", "output"), ("inet", "postrouting"), ("arp", "output"), ("netdev", "ingress"),
                           ("inet", "prerouting"), ("inet", "forward")},
}
OWN_HOOKS = {
    ("inet", "pre"): "prerouting", ("inet", "out"): "output", ("inet", "input_end"): "input",
    ("inet", "forward_end"): "forward", ("inet", "postrouting_end"): "postrouting",
    ("bridge", "pre"): "prerouting", ("bridge", "out"): "output", ("bridge", "input_end"): "input",
    ("bridge", "forward_end"): "forward", ("bridge", "postrouting_end"): "postrouting",
    ("arp", "in"): "input", ("arp", "out"): "output", ("arp", "input_end"): "input", ("arp", "output_end"): "output",
}
OWN_ENTRY_CHAINS = {"pre", "out", "in"}      # plus netdev ingress_N: the chains that set nftrace
TERMINAL = {"accept", "drop", "queue", "stolen", "repeat", "stop"}
CT_STATES = {1: "invalid", 2: "established", 4: "related", 8: "new", 64: "untracked"}
CT_STATUS = ["expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "seq-adjust", "snat-done",
             "dnat-done", "dying", "fixed-timeout", "template", "untracked", "helper", "offload", "hw-offload"]
ND_TYPES = {133, 134, 135, 136, 137}
L4NAMES = {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp", 47: "gre"}

TRACE_LIMITS = [
    "Chains run before the trace table's own prerouting/output chain (priority -2147483648, or a "
    "netdev ingress chain of the lab registered before it at that priority) are not traced.",
    "nft monitor trace (nftables 1.0.6) prints only events that carry a rule handle; the kernel "
    "(6.16+) also sends an event without a handle when a chain runs off its end. Both are kept: "
    "such an event is recorded as {\"chain\": C, \"end\": true} in a chain run's trail, so a "
    "jumped-to chain that returned without a match is visible. The nft text shows nothing for it.",
    "A rule appears in a trail only if all its expressions matched (the kernel traces nothing for a "
    "rule that did not match). Rules with a non-terminal statement (counter, log, meta set, ...) "
    "that matched appear with verdict continue.",
    "Rule texts come from `nft -a -s list ruleset` taken after lab.sh (as nft monitor trace prints "
    "them, without counter values). iptables-nft rules are printed as nft translates them; a rule "
    "that nft cannot translate shows its xtables match/target as `xt match \"NAME\"` / "
    "`xt target \"NAME\"` and is flagged compat: its verdict in the trace is the one the xtables "
    "target returned (e.g. REJECT -> drop, MASQUERADE/DNAT -> accept), what the target did is not "
    "traced. A `-m comment` comment is not part of the text.",
    "Header bytes in the trace are limited by the kernel to 20 link-layer, 40 network and 20 "
    "transport bytes; packets are matched on those bytes.",
    "Conntrack state in a chain run is the state when that base chain started (kernel 6.16+ "
    "attributes); it is absent where the packet had no conntrack entry (conntrack not in use in "
    "the namespace, or before the conntrack hook at priority -200). untracked = state 64.",
    "Verdicts of things that are not nftables chains (conntrack, defragmentation, NAT helpers, "
    "br_netfilter) are not traced: a fragment held for reassembly simply has no further chain "
    "runs (fate Queued), and the hooks br_netfilter runs for bridged IP packets appear as inet "
    "chain runs inside the bridge ones.",
    "Fates other than netfilter drops come from skb:kfree_skb (drop reasons) and from the copies "
    "tcpdump saw leaving each device; a packet delivered to a socket frees its skb with "
    "consume_skb, which is not traced: Delivered means it passed the last input chain (the "
    "observer chain) and no drop of it was seen.",
]


# ------------------------------------------------------------------------------------------ pcap

def read_pcap(path):
    """[(t_ns_realtime, linktype, bytes)]"""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return out
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        else:
            e = ">"
            magic = struct.unpack(">I", hdr[:4])[0]
        nano = magic == 0xA1B23C4D
        linktype = struct.unpack(e + "I", hdr[20:24])[0] & 0xFFFF
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            sec, frac, incl, _orig = struct.unpack(e + "IIII", rh)
            data = f.read(incl)
            t = sec * 1_000_000_000 + (frac if nano else frac * 1000)
            out.append((t, linktype, data))
    return out


def tcpdump_summaries(path):
    """One `tcpdump -n -t` summary per frame. tcpdump prints the inner packet of a VXLAN (OTV) or
    GENEVE datagram on a line of its own: -# numbers the frames, so such a line joins its frame's
    summary (after " | ")."""
    r = subprocess.run(["tcpdump", "-#", "-n", "-t", "-r", path], capture_output=True, text=True)
    sums = []
    for l in r.stdout.splitlines():
        m = re.match(r"^\s*\d+  (.*)$", l)
        if m:
            sums.append(m.group(1))
        elif l and not l[0].isspace() and sums:
            sums[-1] += " | " + l
    return sums


# ------------------------------------------------------------------------------------- packets

def l4_offset(l3, ethertype):
    """(l4 protocol, offset of the transport header) or (None, None)."""
    if ethertype == 0x0800 and len(l3) >= 20 and l3[0] >> 4 == 4:
        ihl = (l3[0] & 15) * 4
        frag = struct.unpack(">H", l3[6:8])[0]
        if frag & 0x1FFF:
            return l3[9], None
        return l3[9], ihl
    if ethertype == 0x86DD and len(l3) >= 40 and l3[0] >> 4 == 6:
        nh, off = l3[6], 40
        for _ in range(8):
            if nh in (0, 43, 60) and off + 8 <= len(l3):
                nh, off = l3[off], off + (l3[off + 1] + 1) * 8
            elif nh == 44 and off + 8 <= len(l3):
                if struct.unpack(">H", l3[off + 2:off + 4])[0] & 0xFFF8:
                    return l3[off], None
                nh, off = l3[off], off + 8
            else:
                break
        return nh, off
    return None, None


def is_fragment(l3, ethertype):
    if ethertype == 0x0800 and len(l3) >= 20:
        return bool(struct.unpack(">H", l3[6:8])[0] & 0x3FFF)
    if ethertype == 0x86DD and len(l3) >= 40:
        nh, off = l3[6], 40
        for _ in range(8):
            if nh == 44:
                return True
            if nh in (0, 43, 60) and off + 8 <= len(l3):
                nh, off = l3[off], off + (l3[off + 1] + 1) * 8
            else:
                break
    return False


def fragment_of(l3, nh):
    """Is packet l3 a fragment the kernel made of the packet whose header is nh (fragmented after the
    postrouting hook)? IPv4: same addresses, id, protocol and TTL, starting within nh's range. IPv6: l3 is a fragment, nh is
    not, same class, flow label, hop limit and addresses (ip6_fragment draws a new identification)."""
    if len(l3) >= 40 and len(nh) >= 40 and l3[0] >> 4 == 6 and nh[0] >> 4 == 6:
        return (is_fragment(l3, 0x86DD) and nh[6] != 44 and l3[0:4] == nh[0:4] and l3[7] == nh[7]
                and l3[8:40] == nh[8:40])
    if not (len(l3) >= 20 and len(nh) >= 20 and l3[0] >> 4 == 4 and nh[0] >> 4 == 4 and
            l3[4:6] == nh[4:6] and l3[8:10] == nh[8:10] and l3[12:20] == nh[12:20]):
        return False
    # nh may itself be a fragment (a router forwarding fragments as they came): l3 is cut from it only
    # if it starts within nh's own range, not when it is the datagram's next fragment
    offset = lambda h: (struct.unpack(">H", h[6:8])[0] & 0x1FFF) * 8
    start = offset(nh)
    return start <= offset(l3) < start + struct.unpack(">H", nh[2:4])[0] - (nh[0] & 0x0F) * 4


def fragment_key(l3, ethertype):
    """What tells a datagram's fragments apart: IPv4 id and offset, IPv6 the fragment header's offset."""
    if ethertype == 0x0800:
        return l3[4:8]
    nh, off = l3[6], 40
    for _ in range(8):
        if nh == 44 and off + 8 <= len(l3):
            return l3[off + 2:off + 8]
        if nh in (0, 43, 60) and off + 8 <= len(l3):
            nh, off = l3[off], off + (l3[off + 1] + 1) * 8
        else:
            break
    return b""


def hdr_match(l3, nh, th):
    """Are the trace's network header bytes nh (and transport bytes th) those of packet l3?"""
    if not nh or not l3.startswith(nh):
        return False
    if not th:
        return True
    n = len(nh)
    if l3[n:n + len(th)] == th:
        return True
    return th in l3[n:n + 256]


def hdr_match_after_confirm(l3, nh, th):
    """hdr_match for a TCP segment a conntrack helper's NAT part changed after the last chain
    (nf_confirm runs after every hook's chains): nf_nat_ftp resizes the payload (IPv4 total length and
    checksum, IPv6 payload length; the TCP checksum), nf_ct_seq_adjust moves seq and ack. Every other
    header byte must be the trace's."""
    if not nh or not th or len(l3) < 40 or nh[:1] != l3[:1]:
        return False
    if l3[0] >> 4 == 4 and len(nh) >= 20 and l3[9] == 6:
        ihl, skip = (l3[0] & 0x0F) * 4, {2, 3, 10, 11}
    elif l3[0] >> 4 == 6 and len(nh) >= 40 and len(l3) >= 60 and l3[6] == 6:
        ihl, skip = 40, {4, 5}
    else:
        return False
    # the trace's network bytes are the IP header (with the transport bytes after them when it is shorter
    # than 40), its transport bytes the TCP header's first 20
    skip |= set(range(ihl + 4, ihl + 12)) | {ihl + 16, ihl + 17}
    if len(nh) > len(l3) or any(nh[i] != l3[i] for i in range(len(nh)) if i not in skip):
        return False
    tcp = l3[ihl:ihl + len(th)]
    return len(tcp) == len(th) and all(th[i] == tcp[i] for i in range(len(th)) if i not in (4, 5, 6, 7, 8, 9, 10, 11, 16, 17))


# ------------------------------------------------------------------------------------ structure

class Dev:
    def __init__(self, ns, d):
        self.ns = ns
        self.ifindex = d["ifindex"]
        self.name = d["ifname"]
        info = d.get("linkinfo", {})
        self.kind = info.get("info_kind") or ("loopback" if d.get("link_type") == "loopback" else "device")
        self.mac = d.get("address")
        self.master = d.get("master")
        self.link_index = d.get("link_index")
        self.link = d.get("link")     # the lower device's name, for one in the same namespace (a VLAN device's)
        self.link_netnsid = d.get("link_netnsid")
        self.peer = None      # (ns name, dev name) for a veth
        self.lower = None     # (ns name, dev name) for a macvlan: its lower device
        self.mode = info.get("info_data", {}).get("mode") if self.kind == "macvlan" else None


class Namespace:
    def __init__(self, name, d, prefix):
        self.name = name
        self.dir = d
        self.devs = {}
        for l in json.load(open(os.path.join(d, "link.json"))):
            dev = Dev(name, l)
            self.devs[dev.ifindex] = dev
        self.byname = {d.name: d for d in self.devs.values()}
        self.nsids = {}
        p = os.path.join(d, "listid.txt")
        if os.path.exists(p):
            for line in open(p):
                m = re.match(r"nsid (\d+) \(iproute2 netns name: (\S+)\)", line.strip())
                if m and m.group(2).startswith(prefix):
                    self.nsids[int(m.group(1))] = m.group(2)[len(prefix):]
        self.rules, self.chains, self.chain_order = parse_ruleset(os.path.join(d, "ruleset.txt"),
                                                                  os.path.join(d, "ruleset.json"))
        self.conntrack = parse_conntrack(os.path.join(d, "conntrack.txt"))
        p = os.path.join(d, "expect.txt")
        # conntrack -L expect, one expectation a line as conntrack-tools prints it (the timeout first)
        self.expect = sorted(l.strip() for l in open(p) if "proto=" in l) if os.path.exists(p) else []
        p = os.path.join(d, "conntrack.time")
        self.conntrack_listed = open(p).read().strip() if os.path.exists(p) else None
        self.sockets = parse_ss(os.path.join(d, "ss-tcp.txt"), "tcp") + parse_ss(os.path.join(d, "ss-udp.txt"), "udp")
        p = os.path.join(d, "ss.time")
        self.sockets_listed = open(p).read().strip() if os.path.exists(p) else None
        # rule counters, named counters, quotas, set element counters: what the traffic counted
        self.counters = counters.read(os.path.join(d, "counters-before.json"), os.path.join(d, "counters-after.json"))
        self.inum = int(open(os.path.join(d, "inum")).read())

    def devname(self, ifindex):
        if ifindex is None:
            return None
        d = self.devs.get(ifindex)
        return d.name if d else f"if{ifindex}"


def parse_ruleset(txt, js):
    rules = {}
    table = chain = None
    for line in open(txt):
        line = line.rstrip("\n")
        m = re.match(r"^table (\S+) (\S+) \{", line)
        if m:
            table = (m.group(1), m.group(2))
            chain = None
            continue
        if table is None:
            continue
        m = re.match(r"^\tchain (\S+) \{", line)
        if m:
            chain = m.group(1).strip('"')
            continue
        if re.match(r"^\t\S", line):       # set, map, flowtable, object ... or the table's closing
            chain = None
            continue
        if line == "}":
            table = chain = None
            continue
        m = re.match(r"^\t\t(.*\S) # handle (\d+)$", line)
        if m and chain is not None:
            rules[(table[0], table[1], chain, int(m.group(2)))] = m.group(1)
    chains = {}
    order = []
    for item in json.load(open(js)).get("nftables", []):
        c = item.get("chain")
        if not c:
            continue
        key = (c["family"], c["table"], c["name"])
        meta = {"family": c["family"], "table": c["table"], "chain": c["name"]}
        if "hook" in c:
            meta.update({"type": c.get("type"), "hook": c["hook"], "priority": c.get("prio"),
                         "policy": c.get("policy", "accept")})
            if "dev" in c:
                meta["device"] = c["dev"]
            order.append(meta)
        chains[key] = meta
    return rules, chains, order


def parse_conntrack(path):
    entries = []
    if not os.path.exists(path):
        return entries
    for line in open(path):
        w = line.split()
        if len(w) < 3 or "=" in w[0]:
            continue
        e = {"proto": w[0]}
        if w[2].isdigit():
            e["timeout"] = int(w[2])
        tuples = []
        flags = []
        after_use = False  # -o id prints id= after use=; -o labels prints labels= after that
        for tok in w[3:]:
            if tok.startswith("[") and tok.endswith("]"):
                flags.append(tok[1:-1])
            elif "=" in tok:
                k, v = tok.split("=", 1)
                if k == "src":
                    tuples.append({})
                if k in ("mark", "use", "zone", "secctx", "labels", "helper", "zone-orig", "zone-reply"):
                    if k in ("mark", "zone"):
                        e[k] = int(v) if v.isdigit() else v
                    if k in ("zone-orig", "zone-reply"):
                        e["zoneOrig" if k == "zone-orig" else "zoneReply"] = int(v)
                    if k == "helper":
                        e[k] = v
                    if k == "labels":
                        e[k] = [x for x in v.split(",") if x]
                    after_use |= k == "use"
                    continue
                if k == "id" and after_use:
                    e["id"] = int(v)
                    continue
                if tuples:
                    tuples[-1][k] = int(v) if v.isdigit() else v
            elif tok.isupper():
                e["state"] = tok
        if tuples:
            e["original"] = tuples[0]
        if len(tuples) > 1:
            e["reply"] = tuples[1]
        e["flags"] = flags
        entries.append(e)
    entries.sort(key=lambda x: json.dumps([x.get("original"), x.get("proto")], sort_keys=True))
    return entries


# ss's state names -> the kernel's (TCP_FIN_WAIT1: FIN_WAIT1), which Get-PktFlowSocket prints
SS_STATES = {"ESTAB": "ESTABLISHED", "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2"}


def ss_endpoint(text):
    """An address:port as ss prints it, the way Get-PktFlowSocket prints it: a wildcard address is *,
    an IPv4-mapped IPv6 address (a v6 socket's IPv4 connection) is the IPv4 address, an IPv6 address
    is in brackets, a bound device (%eth0) is dropped."""
    addr, _, port = text.rpartition(":")
    if addr.startswith("["):
        end = addr.index("]")
        addr = addr[1:end]
    elif "%" in addr:
        addr = addr[:addr.index("%")]
    if "%" in addr:                   # [fe80::1%eth0]
        addr = addr[:addr.index("%")]
    if addr.lower().startswith("::ffff:") and "." in addr:
        addr = addr[7:]
    if addr in ("*", "0.0.0.0", "::", ""):
        addr = "*"
    elif ":" in addr:
        addr = f"[{addr}]"
    return f"{addr}:{port}"


def parse_ss(path, proto):
    """ss -tanH / ss -uanH: one socket a line (state, Recv-Q, Send-Q, local, peer)."""
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        w = line.split()
        if len(w) < 5 or not w[1].isdigit():
            continue
        out.append({"proto": proto, "state": SS_STATES.get(w[0], w[0].replace("-", "_")),
                    "local": ss_endpoint(w[3]), "peer": ss_endpoint(w[4])})
    out.sort(key=lambda x: (x["proto"], x["local"], x["peer"], x["state"]))
    return out


def ct_info(ct):
    if not ct:
        return None
    out = {"state": CT_STATES.get(ct["state"], str(ct["state"]))}
    if "direction" in ct:
        out["direction"] = "reply" if ct["direction"] else "original"
    if "status" in ct:
        out["status"] = [n for i, n in enumerate(CT_STATUS) if ct["status"] >> i & 1]
    if "id" in ct:
        out["id"] = ct["id"]
    return out


# -------------------------------------------------------------------------- trace -> journeys

class ChainRun:
    def __init__(self, ns, ev, seq):
        self.ns = ns
        self.seq = seq
        self.id = ev["id"]
        self.family = ev["family"]
        self.table = ev["table"]
        self.chain = ev["chain"]
        self.t = ev["t"]
        self.iif = ev.get("iif")
        self.oif = ev.get("oif")
        self.nh = bytes.fromhex(ev["nh"]) if "nh" in ev else b""
        self.th = bytes.fromhex(ev["th"]) if "th" in ev else b""
        if not self.nh and len(self.th) >= 8 and self.th[0] >> 4 == 6 and ev.get("nfproto") == 10:
            # an IPv6 fragment other than the first has no transport header: the kernel dumps the
            # start of the network header (its first 20 bytes) as the transport one, and no network header
            self.nh, self.th = self.th, b""
        self.ll = bytes.fromhex(ev["ll"]) if "ll" in ev else b""
        self.nfproto = ev.get("nfproto")
        self.ct = ev.get("ct")
        self.mark = ev.get("mark")
        self.headerless = not any(k in ev for k in ("iif", "oif", "nh", "ll", "th"))
        self.events = []
        self.own = self.table == OWN_TABLE
        self.role = None
        if self.own:
            if self.family == "netdev":
                self.hook = "ingress"
            else:
                self.hook = OWN_HOOKS.get((self.family, self.chain), "?")
            self.role = "entry" if self.family == "netdev" or self.chain in OWN_ENTRY_CHAINS else "end"
            self.priority = None
        else:
            meta = ns.chains.get((self.family, self.table, self.chain), {})
            self.hook = meta.get("hook", "?")
            self.priority = meta.get("priority")
        # hook class: ip/ip6/inet chains all run at the inet hooks
        self.fam = "inet" if self.family in ("ip", "ip6", "inet") else self.family

    @property
    def key(self):
        return (self.fam, self.hook)

    def result(self):
        """(verdict, by, rule-event) of this base chain run."""
        last = None
        for e in self.events:
            if e.get("type") == "policy":
                return e.get("policy"), "policy", None
            if e.get("type") == "rule" and e.get("verdict") in TERMINAL:
                return e["verdict"], "rule", e
            last = e
        if last is not None and last.get("type") == "rule" and "handle" not in last and last.get("verdict") == "continue" \
                and last.get("chain") == self.chain:
            return "accept", "end", None      # a base chain that ran off its end without a policy event
        return None, None, None


class Journey:
    _n = 0

    def __init__(self, ns):
        Journey._n += 1
        self.n = Journey._n
        self.ns = ns
        self.crs = []
        self.closed = False      # True, False, or "bridge-postrouting" (only br_netfilter's inet postrouting may follow)
        self.rx = []     # copies
        self.tx = []
        self.drops = []
        self.group = None

    @property
    def t(self):
        return self.crs[0].t if self.crs else 0

    def keys(self):
        return {c.key for c in self.crs}


def load_trace(ns):
    events = []
    lost = False
    p = os.path.join(ns.dir, "trace.jsonl")
    if os.path.exists(p):
        for line in open(p):
            line = line.strip()
            if not line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue      # the last line of a listener that was killed
            if e.get("lost"):
                lost = True
            if "family" in e and "id" in e and "table" in e:
                events.append(e)
    crs = []
    open_cr = {}
    for e in events:
        start = any(k in e for k in ("iif", "oif", "nh", "ll", "th"))
        cr = open_cr.get(e["id"])
        # a base chain of another hook under the same id is a new run even without packet headers (a
        # rule's NF_STOLEN verdict in a later hook: synproxy in forward after a raw prerouting chain)
        other_base = cr is not None and not start and e.get("chain") != cr.chain \
            and ns.chains.get((e["family"], e["table"], e.get("chain")), {}).get("hook") not in (None, cr.hook)
        if start or other_base or cr is None or cr.family != e["family"] or cr.table != e["table"]:
            cr = ChainRun(ns, e, len(crs))
            crs.append(cr)
            open_cr[e["id"]] = cr
        cr.events.append(e)
    return crs, lost, len(events)


def build_journeys(ns, crs):
    """Split chain runs into journeys. Only the trace tables' own chains decide where a packet's
    way through the namespace starts again: their entry chains run first at their hook and their
    observer chains last, so a second run of one of them under the same trace id is another skb
    (the kernel derives trace ids from the skb address, which it reuses)."""
    journeys = []
    open_j = {}
    for cr in crs:
        j = open_j.get(cr.id)
        new = j is None or j.closed is True
        if j is not None and j.closed == "bridge-postrouting":
            # br_netfilter runs the inet postrouting hook for bridged IP packets from the bridge
            # postrouting hook at priority INT_MAX, after the observer chain that ended it
            new = cr.key != ("inet", "postrouting")
        elif not new:
            own_seen = {(c.key, c.role) for c in j.crs if c.own}
            entries = {k for k, r in own_seen if r == "entry"}
            if cr.own and cr.role == "entry":
                if (cr.key, "entry") in own_seen:
                    new = True
                elif cr.key == ("bridge", "output"):
                    new = ("bridge", "prerouting") in entries
                else:
                    new = not entries <= MAY_PRECEDE.get(cr.key, set())
            elif (cr.key, "end") in own_seen:
                new = True      # this hook was already passed completely: another packet
        if new:
            j = Journey(ns)
            journeys.append(j)
            open_j[cr.id] = j
        j.crs.append(cr)
        verdict, _by, _ = cr.result()
        if verdict in ("drop", "queue", "stolen"):
            j.closed = True
        if cr.own and cr.role == "end" and cr.key in (("inet", "input"), ("bridge", "input"), ("arp", "input")):
            j.closed = True
        elif cr.own and cr.role == "end" and cr.key == ("bridge", "postrouting"):
            j.closed = "bridge-postrouting"
        elif cr.own and cr.role == "end" and cr.key == ("inet", "postrouting") and j.closed == "bridge-postrouting":
            j.closed = True
    return journeys


# ------------------------------------------------------------------------------------- copies

class Copy:
    def __init__(self, ns, idx, t, data):
        self.ns = ns
        self.idx = idx
        self.t = t
        proto, _res, ifindex, _hatype, pkttype, halen = struct.unpack(">HHIHBB", data[:12])
        self.ethertype = proto
        self.ifindex = ifindex
        self.dev = ns.devname(ifindex)
        self.out = pkttype == 4
        self.src = data[12:12 + halen].hex(":") if halen else None
        self.l3 = data[20:]
        self.journey = None
        self.link = None      # the copy on the other end of a veth
        self.wire = None
        self.via = None       # a copy sent on a lower device: the copy its macvlan sent (macvlan_queue_xmit)


def load_copies(ns, clock):
    p = os.path.join(ns.dir, "any.pcap")
    copies = []
    if not os.path.exists(p):
        return copies
    for k, (t, lt, data) in enumerate(read_pcap(p)):
        if lt != 276 or len(data) < 20:
            continue
        c = Copy(ns, k, t - clock, data)
        if c.dev == "lo":
            continue
        copies.append(c)
    return copies


def bind_copies(ns, copies, journeys):
    """Tie every copy in ns to a journey."""
    used_rx = set()
    used_tx = {}
    by_t = sorted(journeys, key=lambda j: j.t)
    for c in sorted(copies, key=lambda c: c.t):
        if not c.out:
            for j in by_t:
                if j.n in used_rx or not j.crs:
                    continue
                f = j.crs[0]
                if f.iif != c.ifindex or j.t < c.t - 50_000_000 or j.t > c.t + 2_000_000_000:
                    continue
                if f.nh and hdr_match(c.l3, f.nh, f.th) or (not f.nh and f.ll and c.ethertype == struct.unpack(">H", f.ll[12:14])[0]):
                    used_rx.add(j.n)
                    c.journey = j
                    j.rx.append(c)
                    break
        else:
            frag = is_fragment(c.l3, c.ethertype)
            key_extra = fragment_key(c.l3, c.ethertype) if frag else b""
            dev = ns.devs.get(c.ifindex)
            master = ns.byname.get(dev.master) if dev is not None and dev.master else None

            def sent_by(cr, j, match=hdr_match):
                if not cr.nh:
                    return False
                if cr.oif == c.ifindex:
                    pass
                elif master is not None and cr.oif == master.ifindex and cr.key == ("inet", "postrouting") and \
                        any(x.fam == "bridge" and x.oif == c.ifindex for x in j.crs):
                    # a bridged frame: br_netfilter runs inet postrouting (and conntrack's NAT there)
                    # with the bridge as output device, after the bridge's own postrouting chains
                    pass
                else:
                    return False
                return match(c.l3, cr.nh, cr.th) or frag and fragment_of(c.l3, cr.nh)

            order = by_t
            if frag and c.ethertype == 0x86DD:
                # IPv6 fragments carry a new identification: the datagram they were cut from is the
                # one nearest in time
                order = sorted(by_t, key=lambda j: abs(j.t - c.t))
            def bind(match):
                for j in order:
                    # trace times are when the listener read the event: later than the kernel's, by
                    # however long the listener waited for a CPU
                    if (j.n, c.ifindex, key_extra) in used_tx or j.t > c.t + 2_000_000_000 or j.t < c.t - 5_000_000_000:
                        continue
                    if any(match(cr, j) for cr in j.crs):
                        used_tx[(j.n, c.ifindex, key_extra)] = True
                        c.journey = j
                        j.tx.append(c)
                        return True
                return False

            if not bind(sent_by) and not frag:
                # a segment a NAT helper rewrote or seq-adjusted after the chains (nf_confirm)
                bind(lambda cr, j: sent_by(cr, j, hdr_match_after_confirm))


def group_journeys(ns, journeys):
    """Visits: journeys of one packet in one namespace under different trace ids."""
    byn = {j.n: j for j in journeys}
    parent = {j.n: j.n for j in journeys}

    def find(j):
        n = j.n
        while parent[n] != n:
            n = parent[n]
        return byn[n]

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra.n != rb.n:
            parent[rb.n] = ra.n

    srt = sorted(journeys, key=lambda j: j.t)
    for i, j in enumerate(srt):
        if not j.crs:
            continue
        # passed up by a bridge: bridge input observer on a port -> next journey received on the bridge
        for cr in j.crs:
            if cr.own and cr.key == ("bridge", "input"):
                port = ns.devs.get(cr.iif)
                br = ns.byname.get(port.master) if port and port.master else None
                first = next((c for c in j.crs if c.nh), None)
                if br and first:
                    for k in srt[i + 1:]:
                        if k.t - j.t > 1_000_000_000:
                            break
                        # the header as the journey began, or as the bridge input observer saw it: br_netfilter's
                        # prerouting NAT may have rewritten it (a reply to a masqueraded connection, de-masqueraded)
                        seen = (first.nh[:20], cr.nh[:20] if cr.nh else None)
                        if k.crs and k.crs[0].iif == br.ifindex and k.crs[0].nh[:20] in seen and \
                                find(k).n == k.n:
                            union(j, k)
                            break
        # taken off a VLAN: received on the lower device, then again on the VLAN device
        k = vlan_lower_journey(ns, j, srt[:i])
        if k is not None and find(k).n == k.n:
            union(k, j)
        # orphans: clones made by the bridge (flooding) and fragments start without an entry hook
        f = j.crs[0]
        if not f.nh:
            continue
        if f.key == ("bridge", "output"):
            port = ns.devs.get(f.oif)
            br = ns.byname.get(port.master) if port and port.master else None
            if br is None:
                continue
            ok = lambda c: c.key in (("inet", "postrouting"), ("arp", "output"), ("inet", "output")) and \
                c.oif == br.ifindex and c.nh and similar(c.nh, f.nh, c.nfproto)
        elif f.key not in ENTRY:
            ok = lambda c: c.nh and similar(c.nh, f.nh, c.nfproto)
        else:
            continue
        for k in reversed(srt[:i]):
            if j.t - k.t > 2_000_000_000:
                break
            if any(ok(c) for c in k.crs):
                union(k, j)
                break
    groups = {}
    for j in journeys:
        groups.setdefault(find(j).n, []).append(j)
    out = []
    for _n, js in groups.items():
        js.sort(key=lambda j: j.t)
        v = Visit(ns, js)
        for j in js:
            j.group = v
        out.append(v)
    return out


def vlan_lower_journey(ns, j, earlier):
    """The journey on a VLAN device's lower device that j continues: vlan_do_receive takes the tag off
    and runs the same skb through __netif_receive_skb_core again with the VLAN device as skb->dev, so
    its network header is unchanged (the tag was in vlan_tci since skb_vlan_untag); the lower device's
    journey saw nothing but that device (its netdev ingress hook)."""
    f = j.crs[0]
    dev = ns.devs.get(f.iif)
    lower = ns.byname.get(dev.link) if dev is not None and dev.link else None
    if dev is None or dev.kind != "vlan" or lower is None or not f.nh:
        return None
    for k in reversed(earlier):
        if j.t - k.t > 1_000_000_000:
            break
        g = k.crs[0] if k.crs else None
        if g is not None and g.nh and g.iif == lower.ifindex and g.nh[:20] == f.nh[:20] \
                and all(c.iif == g.iif for c in k.crs):
            return k
    return None


TUNNEL_KINDS = {"ipip", "gre", "gretap", "sit", "ip6tnl", "ip6gre", "ip6gretap", "vxlan", "geneve", "bareudp"}


def link_decapsulated(ns, visits):
    """Tie the inner packet of a tunnel to the outer one it came in (ip_tunnel_rcv, fou_udp_recv /
    gue_udp_recv resubmitting to ipip, udp_tunnel's encap_rcv): the inner packet is received again on
    the tunnel device as a packet of its own (new header bytes, new trace id). Its identity is its
    bytes: the whole inner packet, as the tunnel device's copy shows it (else its first 20 header
    bytes from the trace), lies inside the outer packet after the outer IP header, and the outer
    packet was received in this namespace shortly before (1 s)."""
    for w in visits:
        first = w.crs[0] if w.crs else None
        in_dev = ns.devs.get(w.rx[0].ifindex if w.rx else (first.iif if first else None))
        if in_dev is None or in_dev.kind not in TUNNEL_KINDS or w.outer is not None:
            continue
        inner = w.rx[0].l3 if w.rx else (first.nh[:20] if first and first.nh else b"")
        if len(inner) < 20:
            continue
        best = None
        for v in visits:
            if v is w or not v.rx or v.t > w.t or w.t - v.t > 1_000_000_000 or v.rx[0].dev == in_dev.name:
                continue
            if v.rx[0].l3.find(inner, 20) > 0 and (best is None or v.t > best.t):
                best = v
        if best is not None:
            w.outer = best
            best.inner.append(w)


def link_encapsulated(ns, visits):
    """Tie a tunnel packet the namespace made to the inner packet it carries (vxlan_xmit_one,
    ip_tunnel_xmit: the outer packet is a new journey that begins at ip_local_out, so it has no copy
    received in this namespace): the inner packet was sent on the tunnel device shortly before (1 s)
    and its bytes, as that device's copy shows them, lie whole inside the outer packet after the outer
    IP header. The outer packet's path then goes back through the inner one (`encap`: true on the
    outer visit). One inner packet may make several outer ones (a VXLAN flood to several remotes)."""
    for w in visits:
        if w.rx or not w.tx or w.encap_of is not None:
            continue
        outer, sent = w.tx[0].l3, w.tx[0].t
        best = None
        for v in visits:
            if v is w:
                continue
            for c in v.tx:
                d = ns.devs.get(c.ifindex)
                if d is None or d.kind not in TUNNEL_KINDS or len(c.l3) < 20 or c.t > sent or sent - c.t > 1_000_000_000:
                    continue
                if outer.find(c.l3, 20) > 0 and (best is None or c.t > best[1]):
                    best = (v, c.t)
        if best is not None:
            w.encap_of = best[0]


def similar(a, b, nfproto):
    """Same packet, allowing TTL/hop limit, checksum, NAT (addresses, ports) and fragmentation."""
    if not a or not b:
        return False
    if a[0] >> 4 == 4 and b[0] >> 4 == 4 and len(a) >= 20 and len(b) >= 20:
        return a[4:6] == b[4:6] and a[9] == b[9]        # IP id, protocol
    if a[0] >> 4 == 6 and b[0] >> 4 == 6 and len(a) >= 40 and len(b) >= 40:
        return a[1:4] == b[1:4] and a[6] == b[6] and (a[8:40] == b[8:40] or a[4:6] == b[4:6])
    return a == b


class Visit:
    def __init__(self, ns, journeys):
        self.ns = ns
        self.journeys = journeys
        self.crs = sorted([c for j in journeys for c in j.crs], key=lambda c: c.seq)
        self.rx = sorted([c for j in journeys for c in j.rx], key=lambda c: c.t)
        self.tx = sorted([c for j in journeys for c in j.tx], key=lambda c: c.t)
        self.drops = []
        self.frees = []
        self.inner = []      # visits of the packets decapsulated from this one (link_decapsulated)
        self.handoff = []    # copies macvlans received of this packet (link_macvlans)
        self.outer = None
        self.encap_of = None  # the inner packet's visit this tunnel packet carries (link_encapsulated)

    @property
    def t(self):
        ts = [c.t for c in self.crs] + [c.t for c in self.rx + self.tx]
        return min(ts) if ts else 0


# --------------------------------------------------------------------------------------- drops

def load_drops(path, inums, names):
    drops = []
    if not os.path.exists(path):
        return drops
    for line in open(path):
        p = line.split()
        if len(p) != 16 or p[0] not in ("DROP", "FREE"):
            continue
        if p[0] == "FREE" and p[5].split("+")[0] in ("tpacket_rcv", "packet_rcv", "packet_rcv_spkt"):
            continue    # the clones our own captures consumed
        words = [int(x, 16) for x in p[8:16]]
        nh = b"".join(struct.pack("<Q", w) for w in words)
        drops.append({"kind": p[0], "t": int(p[1]), "inum": int(p[2]), "ifindex": int(p[3]),
                      "reason": names.get(int(p[4]), p[4]), "location": p[5].split("+")[0],
                      "protocol": int(p[6]), "len": int(p[7]), "nh": nh, "ns": inums.get(int(p[2]))})
    return drops


def drop_watch_missed(work):
    """{"dropsMissed": N}: kfree_skb/consume_skb events the kernel did not give the drop watch (its
    programs' recursion_misses); {} for older work directories."""
    p = os.path.join(work, "drops.missed")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        return {"dropsMissed": int(f.read().strip() or 0)}


def drop_reason_names(work=None):
    """enum skb_drop_reason's names by number, from the recording kernel's kfree_skb event format:
    the copy record.sh keeps in the work directory (numbers differ between kernels: a recording made
    in the VM is analysed again on the host), else the running kernel's."""
    kept = [os.path.join(work, "kfree_skb.format")] if work else []
    for p in kept + [os.path.join(b, "events/skb/kfree_skb/format") for b in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")]:
        if os.path.exists(p):
            return {int(a): b for a, b in re.findall(r'\{ (\d+), "(\w+)" \}', open(p).read())}
    return {}


def reassembled_from(dnh, nh):
    """Whether a dropped datagram is the reassembly of fragment nh: ip_frag_reasm and
    nf_ct_frag6_reasm keep the completing fragment's skb, so its drop (e.g. PKT_TOO_BIG in
    ip_forward / ip6_forward) is that fragment's."""
    if len(dnh) >= 40 and len(nh) >= 40 and dnh[0] >> 4 == 6 and nh[0] >> 4 == 6:
        return fragment_of(nh, dnh)
    if len(dnh) < 20 or len(nh) < 20 or dnh[0] >> 4 != 4 or nh[0] >> 4 != 4:
        return False
    frag = lambda h: (h[6] << 8 | h[7]) & 0x3FFF
    return (frag(nh) != 0 and frag(dnh) == 0 and dnh[4:6] == nh[4:6] and dnh[8:10] == nh[8:10]
            and dnh[12:20] == nh[12:20])


def without_length(h):
    """An IPv4 header without tot_len and checksum: fou_udp_recv and gue_udp_recv shrink tot_len by
    what they pull (and leave the checksum), so a drop of the resubmitted packet (IP_NOPROTO for a GUE
    protocol without handler) still carries the outer header, with another length."""
    if len(h) >= 20 and h[0] >> 4 == 4:
        return h[:2] + h[4:10] + h[12:]
    return h


def without_ttl(h, forwarded=False):
    """An IP header as ip_forward leaves it for the FORWARD hook (TTL or hop limit one lower, IPv4
    checksum updated), so a packet freed there (synproxy's NF_STOLEN, nft_synproxy_do_eval) matches the
    copy that arrived; <forwarded>: h is the freed one, whose TTL is put back."""
    if len(h) >= 20 and h[0] >> 4 == 4 and h[8] < 255:
        return h[:2] + h[4:8] + bytes([h[8] + 1 if forwarded else h[8]]) + h[9:10] + h[12:]
    if len(h) >= 40 and h[0] >> 4 == 6 and h[7] < 255:
        return h[:7] + bytes([h[7] + 1 if forwarded else h[7]]) + h[8:]
    return h


def drop_matches(d, nh, th):
    if not nh:
        return False
    if reassembled_from(d["nh"], nh):
        return True
    n = min(len(nh), len(d["nh"]))
    # fewer than 8 bytes only when they are the whole packet (a TCN BPDU: LLC header and 4 bytes)
    if n < 8 and n < len(nh) or without_length(d["nh"][:n]) != without_length(nh[:n]) \
            and without_ttl(d["nh"][:n], forwarded=True) != without_ttl(nh[:n]):
        return False
    if th and len(nh) < len(d["nh"]):
        m = min(len(th), len(d["nh"]) - len(nh))
        return d["nh"][len(nh):len(nh) + m] == th[:m]
    return True


TC_DROPS = ("TC_INGRESS", "TC_EGRESS", "TC_RECLASSIFY_LOOP", "TC_CHAIN_NOTFOUND", "TC_COOKIE_ERROR")

# Transport receive functions ip_local_deliver_finish / ip6_input_finish call after NF_INET_LOCAL_IN:
# a packet one of them freed for want of a socket was delivered, even when the trace lost its input
# events (the first packets of a recording under qemu, tests/Kernel/vm).
TRANSPORT_RCV = ("icmp_rcv", "ping_rcv", "__udp4_lib_rcv", "__udp6_lib_rcv", "tcp_v4_rcv", "tcp_v6_rcv", "icmpv6_rcv", "raw_rcv")


def delivered_by_drop(drops):
    """Whether the first drop is a transport's NO_SOCKET, which only a delivered packet meets."""
    return bool(drops) and drops[0]["reason"] == "NO_SOCKET" and drops[0]["location"] in TRANSPORT_RCV


def on_device(v, ifindex):
    return any(c.ifindex == ifindex for c in v.rx + v.tx) or any(cr.iif == ifindex or cr.oif == ifindex for cr in v.crs)


def take_sent_copy(v, visits, used):
    """Joins to visit v (one copy received) the untraced visit that sent the same bytes out of another
    device within 50 ms of it, if any (recorded in used); True when one was found."""
    rx = v.rx[0]
    for w in sorted(visits, key=lambda w: w.t):
        if id(w) in used or w is v or w.crs or w.rx or len(w.tx) != 1 or w.drops:
            continue
        tx = w.tx[0]
        if tx.dev == rx.dev or tx.l3 != rx.l3 or not 0 <= tx.t - rx.t <= 50_000_000:
            continue
        used.add(id(w))
        j = v.journeys[0]
        j.tx.append(tx)
        tx.journey = j
        v.tx.append(tx)
        return True
    return False


def merge_tc_redirects(ns, visits):
    """tc ingress runs before every traced hook: a packet a mirred redirect takes from one device's
    ingress to another's egress (`action mirred egress redirect dev X`) passes no chain in this
    namespace, so its copy received and its copy sent are two untraced visits. They are one packet
    when the sent copy carries the same bytes within 50 ms and the received one was neither dropped
    nor freed."""
    used = set()
    for v in sorted(visits, key=lambda v: v.t):
        if v.crs or v.tx or len(v.rx) != 1 or v.drops or v.frees:
            continue
        if take_sent_copy(v, visits, used):
            v.tc_redirect = True
    visits[:] = [w for w in visits if not (w.tx and id(w) in used)]


def merge_fwd(ns, visits):
    """`fwd to DEV` in a netdev ingress chain (nf_fwd_netdev_egress) sends the packet itself out of DEV
    and ends the chain with NF_STOLEN: no chain of this namespace runs for it on the way out, so its
    copy sent is an untraced visit of its own. They are one packet when that copy carries the same
    bytes on another device within 50 ms and the stolen packet was neither dropped nor freed."""
    used = set()
    for v in sorted(visits, key=lambda v: v.t):
        if v.tx or v.drops or v.frees or not v.rx or not v.crs:
            continue
        cr = v.crs[-1]
        verdict, _by, rule_ev = cr.result()
        if verdict != "stolen" or cr.family != "netdev" or rule_ev is None \
                or " fwd to " not in " " + (ns.rules.get((cr.family, cr.table, rule_ev.get("chain"), rule_ev.get("handle"))) or ""):
            continue
        take_sent_copy(v, visits, used)
    visits[:] = [w for w in visits if not (w.tx and id(w) in used)]


def bind_drops(ns, drops, visits):
    """Each drop (or free) goes to the latest visit of its bytes that began before it (trace times
    are late, hence 200 ms of slack). Identical packets (a bridge's hello BPDUs, retransmissions)
    take their drops in time order: drops are handled in kernel time order (bpftrace prints each
    CPU's buffer in turn) and each goes to the latest visit that began before it (20 ms) and holds
    none of its kind yet, up to 2 s before the latest; only when there is none, to the latest."""
    left = []
    taken = set()
    for d in sorted(drops, key=lambda d: d["t"]):
        best = None
        found = []
        for v in visits:
            cands = [(c.nh, c.th) for c in v.crs if c.nh] + [(c.l3[:60], b"") for c in v.rx + v.tx]
            if not any(drop_matches(d, nh, th) for nh, th in cands):
                continue
            if v.t > d["t"] + 200_000_000:
                continue
            found.append(v)
        if d.get("reason") in TC_DROPS:
            # a tc drop frees the skb on the device whose filter took it; a copy mirred sent elsewhere
            # just before (mirror ... drop) has the same bytes and is no candidate
            found = [v for v in found if on_device(v, d["ifindex"])] or found
        # identical packets: the latest that began before the drop and holds none of the kind yet
        early = [v for v in found if v.t <= d["t"] + 20_000_000]
        last = max((v.t for v in early), default=0)
        best = max((v for v in early if (id(v), d["kind"]) not in taken and last - v.t < 2_000_000_000),
                   key=lambda v: v.t, default=None)
        if best is None:
            best = max(found, key=lambda v: v.t, default=None)
        if best is not None:
            taken.add((id(best), d["kind"]))
        if best is None:
            if d["kind"] == "DROP":
                left.append(d)
        elif d["kind"] == "DROP":
            best.drops.append(d)
        else:
            best.frees.append(d)
    return left


# where an XDP program's XDP_DROP/XDP_ABORTED is freed: generic XDP, native XDP on a veth
XDP_FREES = ("do_xdp_generic", "veth_xdp_rcv_skb")


def link_xdp_drops(nss, copies_by_ns, visits_by_ns):
    """Generic XDP runs before the taps and the trace tables: a frame its program dropped has no copy
    on the receiving device and no trace there, only its drop at do_xdp_generic (veth_xdp_rcv_skb for
    native XDP on a veth, which runs before the taps too). A copy sent on a veth
    that no copy on the peer explains, followed within a second by such a drop of the same bytes in
    the peer's namespace, reached the peer and was dropped there: the drop makes the visit it leads to."""
    for ns in nss.values():
        for dev in ns.devs.values():
            if not dev.peer or dev.peer[0] not in nss:
                continue
            peer = nss[dev.peer[0]]
            for tx in copies_by_ns[ns.name]:
                if not tx.out or tx.dev != dev.name or tx.link is not None:
                    continue
                d = next((d for d in getattr(peer, "unattributed_drops", [])
                          if d["location"] in XDP_FREES and 0 <= d["t"] - tx.t <= 1_000_000_000
                          and drop_matches(d, tx.l3[:60], b"")), None)
                if d is None:
                    continue
                rx = copy.copy(tx)
                rx.ns, rx.out, rx.dev, rx.ifindex, rx.wire = peer, False, dev.peer[1], d["ifindex"], None
                rx.link, tx.link = tx, rx
                j = Journey(peer)
                j.rx = [rx]
                rx.journey = j
                v = Visit(peer, [j])
                j.group = v
                v.drops.append(d)
                visits_by_ns[peer.name].append(v)
                copies_by_ns[peer.name].append(rx)
                peer.unattributed_drops.remove(d)


def load_xdp_bulk_drops(path):
    """drops.bt's XBULK lines (xdp:xdp_bulk_tx: frames sent and dropped): {"t", "ifindex", "sent", "drops", "err"}."""
    events = []
    if not os.path.exists(path):
        return events
    for line in open(path):
        p = line.split()
        if len(p) == 6 and p[0] == "XBULK":
            events.append({"t": int(p[1]), "ifindex": int(p[2]), "sent": int(p[3]), "drops": int(p[4]), "err": int(p[5])})
    return events


def link_xdp_bulk_drops(nss, copies_by_ns, visits_by_ns, events):
    """Native XDP on a veth sends an XDP_TX frame back to the peer as an xdp_frame; when the peer has
    no NAPI veth_xdp_xmit refuses it and the frame is returned with no skb free, no copy and no trace,
    only an xdp:xdp_bulk_tx event with drops (XBULK; it names the device by ifindex alone). The copy
    the peer sent last, within a second before, that nothing else explains, reached the device and
    ended there: Dropped, reason "xdp_bulk_tx -E..." (the error the event carries)."""
    for e in sorted((e for e in events if e["drops"] > 0), key=lambda e: e["t"]):
        for ns in nss.values():
            dev = ns.devs.get(e["ifindex"])
            tx = native_xdp_source(nss, copies_by_ns, dev, e["t"])
            if tx is None:
                continue
            xdp_visit(ns, visits_by_ns, copies_by_ns, tx, dev, e["t"],
                      drop=(f"xdp_bulk_tx -{errname(e['err'])}" if e["err"] else "xdp_bulk_tx", "veth_xdp_xmit"))
            break


def errname(err):
    """-95 -> EOPNOTSUPP (the errors XDP's tracepoints carry are negative errnos; Python names 95
    ENOTSUP, the kernel EOPNOTSUPP)."""
    if err == -errno.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno.errorcode.get(-err, str(err)) if err < 0 else str(err)


def native_xdp_source(nss, copies_by_ns, dev, t):
    """The copy dev's veth peer sent last, within a second before t, that nothing explains yet: the
    frame native XDP on dev (which runs before its taps) took."""
    if dev is None or not dev.peer or dev.peer[0] not in nss:
        return None
    pns, pdev = dev.peer
    return max((c for c in copies_by_ns[pns] if c.out and c.dev == pdev and c.link is None
                and 0 <= t - c.t <= 1_000_000_000), key=lambda c: c.t, default=None)


def xdp_arrival(nss, copies_by_ns, dev, t):
    """The copy dev's veth peer received first, from just before t to a second after, that nothing
    explains yet: the xdp_frame XDP sent out of dev, which dev's own taps never saw."""
    if dev is None or not dev.peer or dev.peer[0] not in nss:
        return None
    pns, pdev = dev.peer
    return min((c for c in copies_by_ns[pns] if not c.out and c.dev == pdev and c.link is None
                and -2_000_000 <= c.t - t <= 1_000_000_000), key=lambda c: c.t, default=None)


def xdp_visit(ns, visits_by_ns, copies_by_ns, src, indev, rx_t, dst=None, outdev=None, tx_t=None, drop=None):
    """The visit of ns between the copy src its device indev's peer sent and, when it went on, the copy
    dst that outdev's peer received: Forwarded via "xdp" out of outdev, or Dropped with drop (reason,
    location). Neither end has a copy in ns (XDP runs before its taps and sends past them)."""
    rx = copy.copy(src)
    rx.ns, rx.out, rx.dev, rx.ifindex, rx.wire, rx.t = ns, False, indev.name, indev.ifindex, None, rx_t
    rx.link, src.link = src, rx
    j = Journey(ns)
    j.rx = [rx]
    rx.journey = j
    if dst is not None:
        tx = copy.copy(dst)
        tx.ns, tx.out, tx.dev, tx.ifindex, tx.wire, tx.t = ns, True, outdev.name, outdev.ifindex, None, tx_t
        tx.link, dst.link = dst, tx
        j.tx = [tx]
        tx.journey = j
    v = Visit(ns, [j])
    j.group = v
    if dst is not None:
        v.xdp = True
        copies_by_ns[ns.name] += [rx, tx]
    else:
        reason, location = drop
        v.drops.append({"kind": "DROP", "t": rx_t, "inum": 0, "ifindex": indev.ifindex, "reason": reason,
                        "location": location, "protocol": 0, "len": len(src.l3), "nh": src.l3[:64], "ns": ns.name})
        copies_by_ns[ns.name].append(rx)
    visits_by_ns[ns.name].append(v)
    return v


def load_xdp_redirects(path):
    """drops.bt's XREDIR (xdp:xdp_redirect / xdp_redirect_err) and XDEVMAP (xdp:xdp_devmap_xmit) lines."""
    redirects, flushes = [], []
    if not os.path.exists(path):
        return redirects, flushes
    for line in open(path):
        p = line.split()
        if len(p) == 7 and p[0] == "XREDIR":
            redirects.append({"t": int(p[1]), "ifindex": int(p[2]), "to": int(p[3]), "err": int(p[4]), "map_id": int(p[5])})
        elif len(p) == 7 and p[0] == "XDEVMAP":
            flushes.append({"t": int(p[1]), "from": int(p[2]), "to": int(p[3]), "sent": int(p[4]), "drops": int(p[5]), "err": int(p[6])})
    return redirects, flushes


def link_xdp_native(nss, copies_by_ns, visits_by_ns, redirects, flushes, bulks):
    """Native XDP on a veth (veth_xdp_rcv_skb, before the taps) sends what it passes on as xdp_frames,
    past the taps too: the namespace has no copy of the frame and no trace, only the xdp tracepoints,
    which name devices by ifindex alone (tied, as link_xdp_bulk_drops does, through the copy the
    device's peer sent just before). After the generic XDP links, so a frame they explained is left.
    - XDP_REDIRECT refused by xdp_do_redirect (XREDIR with err: no NDO_XMIT, target down, too long):
      Dropped, reason "xdp_redirect_err -E...";
    - accepted (XREDIR err 0), then the target's ndo_xdp_xmit at the flush (XDEVMAP from -> to): sent,
      the copy the target's peer received is where it went (Forwarded via "xdp"); dropped (veth_xdp_xmit
      refuses frames longer than its peer's MTU + 18, or without the peer's NAPI), Dropped, reason
      "xdp_devmap_xmit" (with the error when there is one);
    - XDP_TX the peer took (XBULK with sent): Forwarded via "xdp" back out of the device."""
    for e in sorted(redirects, key=lambda e: e["t"]):
        for ns in nss.values():
            dev = ns.devs.get(e["ifindex"])
            src = native_xdp_source(nss, copies_by_ns, dev, e["t"])
            if src is None:
                continue
            if e["err"]:
                xdp_visit(ns, visits_by_ns, copies_by_ns, src, dev, e["t"],
                          drop=(f"xdp_redirect_err -{errname(e['err'])}", "xdp_do_redirect"))
                break
            fwd = ns.devs.get(e["to"])
            flush = min((f for f in flushes if f["from"] == e["ifindex"] and f["to"] == e["to"]
                         and 0 <= f["t"] - e["t"] <= 50_000_000), key=lambda f: f["t"], default=None)
            if fwd is None or flush is None:
                continue
            flushes.remove(flush)
            if flush["sent"] > 0:
                dst = xdp_arrival(nss, copies_by_ns, fwd, flush["t"])
                if dst is None:
                    continue
                xdp_visit(ns, visits_by_ns, copies_by_ns, src, dev, e["t"], dst, fwd, flush["t"])
            else:
                reason = f"xdp_devmap_xmit -{errname(flush['err'])}" if flush["err"] else "xdp_devmap_xmit"
                xdp_visit(ns, visits_by_ns, copies_by_ns, src, dev, e["t"], drop=(reason, "veth_xdp_xmit"))
            break
    for e in sorted((e for e in bulks if e["sent"] > 0), key=lambda e: e["t"]):
        for ns in nss.values():
            dev = ns.devs.get(e["ifindex"])
            src = native_xdp_source(nss, copies_by_ns, dev, e["t"])
            dst = xdp_arrival(nss, copies_by_ns, dev, e["t"])
            if src is None or dst is None:
                continue
            xdp_visit(ns, visits_by_ns, copies_by_ns, src, dev, e["t"], dst, dev, e["t"])
            break


def load_xdp_events(path, inums):
    """drops.bt's XRX (a frame arriving on a device with a generic XDP program) and XTX (that skb
    received by a veth peer without passing xmit_one) lines: {"kind", "t", "ns", "ifindex", "skb",
    "frame": the first 64 bytes from the MAC header}."""
    events = []
    if not os.path.exists(path):
        return events
    for line in open(path):
        p = line.split()
        if len(p) != 13 or p[0] not in ("XRX", "XTX") or int(p[2]) not in inums:
            continue
        frame = b"".join(struct.pack("<Q", int(x, 16)) for x in p[5:13])
        events.append({"kind": p[0], "t": int(p[1]), "ns": inums[int(p[2])], "ifindex": int(p[3]),
                       "skb": p[4], "frame": frame})
    return events


def starts_alike(l3, frame):
    """Whether a copy's network bytes begin as the event's frame (64 bytes from the MAC header) does."""
    n = min(len(l3), len(frame) - 14)
    return n > 0 and l3[:n] == frame[14:14 + n]


def link_xdp_transmits(nss, copies_by_ns, visits_by_ns, events):
    """A frame a generic XDP program sent back (XDP_TX) or redirected (XDP_REDIRECT) leaves by
    generic_xdp_tx, which calls the driver past the taps: its namespace has no copy of it, received or
    sent, and no trace. drops.bt saw the skb arrive on the XDP device (XRX: the frame as it arrived)
    and reach a veth peer's receive without xmit_one (XTX: the frame as the program left it). The copy
    the XDP device's own peer sent and the copy the receiving peer took in make the visit in between:
    Forwarded, via "xdp", out of the device whose peer received it."""
    for e in sorted((e for e in events if e["kind"] == "XTX"), key=lambda e: e["t"]):
        r = max((r for r in events if r["kind"] == "XRX" and r["skb"] == e["skb"] and 0 <= e["t"] - r["t"] <= 50_000_000),
                key=lambda r: r["t"], default=None)
        if r is None or e["ns"] not in nss:
            continue
        ns = nss[r["ns"]]
        rdev = nss[e["ns"]].devs.get(e["ifindex"])
        indev = ns.devs.get(r["ifindex"])
        outdev = next((d for d in ns.devs.values() if rdev is not None and d.peer == (e["ns"], rdev.name)), None)
        if indev is None or outdev is None or not indev.peer:
            continue
        pns, pdev = indev.peer
        src = max((c for c in copies_by_ns[pns] if c.out and c.dev == pdev and c.link is None
                   and 0 <= r["t"] - c.t <= 1_000_000_000 and starts_alike(c.l3, r["frame"])), key=lambda c: c.t, default=None)
        dst = min((c for c in copies_by_ns[e["ns"]] if not c.out and c.dev == rdev.name and c.link is None
                   and -2_000_000 <= c.t - e["t"] <= 1_000_000_000 and starts_alike(c.l3, e["frame"])), key=lambda c: c.t, default=None)
        if src is None or dst is None:
            continue
        xdp_visit(ns, visits_by_ns, copies_by_ns, src, indev, r["t"], dst, outdev, e["t"])


# ----------------------------------------------------------------------------------- describing

def hook_label(cr, ns):
    dev = ""
    if cr.hook in ("ingress", "prerouting", "input"):
        dev = ns.devname(cr.iif) or ""
    elif cr.hook in ("output", "postrouting"):
        dev = ns.devname(cr.oif) or ""
    elif cr.hook == "forward":
        dev = f"{ns.devname(cr.iif) or '?'}>{ns.devname(cr.oif) or '?'}"
    return f"{cr.fam} {cr.hook}" + (f"@{dev}" if dev else "")


def describe_chain(cr, ns):
    verdict, by, rule_ev = cr.result()
    d = {"family": cr.family, "table": cr.table, "chain": cr.chain, "hook": cr.hook}
    if cr.priority is not None:
        d["priority"] = cr.priority
    d["verdict"] = verdict
    d["by"] = by
    if rule_ev is not None:
        text = ns.rules.get((cr.family, cr.table, rule_ev.get("chain"), rule_ev.get("handle")))
        d["rule"] = {"chain": rule_ev.get("chain"), "handle": rule_ev.get("handle"), "text": text}
        if text and re.search(r"\bxt (match|target)\b", text):
            d["compat"] = True
    trail = []
    for e in cr.events:
        if e.get("type") == "policy":
            trail.append({"policy": e.get("policy")})
        elif e.get("type") == "rule" and "handle" in e:
            t = {"chain": e.get("chain"), "handle": e["handle"],
                 "text": ns.rules.get((cr.family, cr.table, e.get("chain"), e["handle"])),
                 "verdict": e.get("verdict")}
            if e.get("verdictChain"):
                t["target"] = e["verdictChain"]
            trail.append(t)
        elif e.get("type") == "rule":
            trail.append({"chain": e.get("chain"), "end": True})
        elif e.get("type") == "return":
            trail.append({"chain": e.get("chain"), "return": True})
    # a base chain's own end marker is always followed by its policy: keep only the policy
    trail = [t for k, t in enumerate(trail)
             if not (t.get("end") and t.get("chain") == cr.chain and k + 1 < len(trail) and "policy" in trail[k + 1])]
    # the trail is kept when it says more than the decision itself (jumps, gotos, rules that matched
    # without deciding, chains that ran off their end)
    if not (len(trail) == 1 and (("policy" in trail[0] and by == "policy") or
                                 (rule_ev is not None and trail[0].get("handle") == rule_ev.get("handle")
                                  and trail[0].get("chain") == rule_ev.get("chain")))):
        d["trail"] = trail
    ct = ct_info(cr.ct)
    if ct:
        d["ct"] = ct
    if cr.mark:
        d["mark"] = cr.mark
    return d


def first_l3(v):
    for c in v.rx + v.tx:
        return c.l3, c.ethertype
    for cr in v.crs:
        if cr.nh:
            et = 0x0800 if cr.nh[0] >> 4 == 4 else 0x86DD if cr.nh[0] >> 4 == 6 else 0x0806
            if cr.family == "arp":
                et = 0x0806
            return cr.nh + cr.th, et
    return b"", None


def describe_visit(v, wire_copy=None):
    ns = v.ns
    d = {"ns": ns.name}
    entry = v.rx[0] if v.rx else None
    d["in"] = entry.dev if entry else None
    if entry is None:
        first = v.crs[0] if v.crs else None
        if first is not None:
            d["origin"] = "local"
        else:
            d["origin"] = "untraced"
    if wire_copy is not None:
        d["wire"] = True
    hooks = []
    for cr in v.crs:
        lab = hook_label(cr, ns)
        if not hooks or hooks[-1] != lab:
            hooks.append(lab)
    d["hooks"] = hooks
    d["chains"] = []
    last_ct = None
    for cr in v.crs:
        if cr.own:
            continue
        c = describe_chain(cr, ns)
        if "ct" in c:
            if c["ct"] == last_ct:
                del c["ct"]
            else:
                last_ct = c["ct"]
        d["chains"].append(c)
    # fate
    l3, et = first_l3(v)
    proto, _off = l4_offset(l3, et) if et else (None, None)
    is_nd = False
    if et == 0x86DD and proto == 58:
        _p, off = l4_offset(l3, et)
        if off is not None and off < len(l3) and l3[off] in ND_TYPES:
            is_nd = True
    reached_in = any(cr.own and cr.role == "end" and cr.key == ("inet", "input") for cr in v.crs)
    arp_in = any(cr.own and cr.role == "end" and cr.key == ("arp", "input") for cr in v.crs)
    nf_drop = None
    for cr in v.crs:
        verdict, by, rule_ev = cr.result()
        if verdict == "queue" and (v.tx or any(o is not cr and o.t > cr.t for o in v.crs if not o.own)):
            continue  # queue bypass (no listener) or a listener's reinjection: the packet went on
        if verdict in ("drop", "queue", "stolen"):
            nf_drop = (cr, verdict, by, rule_ev)
            break
    out_devs = []
    for c in v.tx:
        if c.dev not in out_devs:
            out_devs.append(c.dev)
    drops = [x for x in v.drops]
    reason = drops[0]["reason"] if drops else None
    reached_in = reached_in or delivered_by_drop(drops)
    if nf_drop is not None:
        cr, verdict, by, rule_ev = nf_drop
        if verdict == "drop":
            fate = "Dropped"
            reason = next((x["reason"] for x in drops if x["reason"] == "NETFILTER_DROP"), reason or "NETFILTER_DROP")
        elif verdict == "stolen" and v.tx:
            # fwd to DEV: sent out of DEV by the statement itself (merge_fwd)
            fate = "Forwarded"
            d["via"] = "fwd"
            d["out"] = [c.dev for c in v.tx]
        elif verdict == "stolen" and v.frees:
            # the statement kept the packet and freed it (consume_skb: synproxy's answered SYN and ACK)
            fate = "Consumed"
            d["consumedBy"] = v.frees[0]["location"]
        elif verdict == "queue" and any(x.get("location") == "nf_queue" for x in drops):
            # no listener on the queue (-ESRCH) and no bypass: nf_queue frees the packet itself
            fate = "Dropped"
            reason = next(x["reason"] for x in drops if x.get("location") == "nf_queue")
        else:
            fate = "Queued"
            reason = f"nf_{verdict}"
        d["decidedBy"] = {"family": cr.family, "table": cr.table, "chain": cr.chain, "by": by}
        if rule_ev is not None:
            d["decidedBy"]["handle"] = rule_ev.get("handle")
            d["decidedBy"]["rule"] = ns.rules.get((cr.family, cr.table, rule_ev.get("chain"), rule_ev.get("handle")))
    elif out_devs:
        fate = "Forwarded" if entry is not None else "Transmitted"
        if entry is not None:
            d["via"] = "bridge" if any(cr.key == ("bridge", "forward") for cr in v.crs) else "tc" if getattr(v, "tc_redirect", False) \
                else "xdp" if getattr(v, "xdp", False) else "route"
        if reached_in or arp_in:
            # a flooded or multicast frame that was also taken by this namespace's own stack
            d["local"] = "Consumed" if (is_nd or arp_in) else "Delivered"
    elif reached_in:
        fate = "Consumed" if is_nd else "Delivered"
        if fate == "Delivered" and proto is not None:
            d["deliveredTo"] = L4NAMES.get(proto, str(proto))
    elif arp_in and not drops:
        fate = "Consumed"
    elif drops:
        fate = "Dropped"
    elif et and is_fragment(l3, et):
        fate = "Queued"
        reason = "reassembly"
    elif entry is None and not v.crs:
        fate = "Transmitted"
    elif v.handoff:
        # macvlan_handle_frame handed it to a macvlan (RX_HANDLER_ANOTHER, or the broadcast's clones)
        fate = "Forwarded"
        d["via"] = "macvlan"
    elif v.frees:
        # freed by consume_skb (not a drop in the kernel's own accounting) before any other outcome
        fate = "Consumed"
        d["consumedBy"] = v.frees[0]["location"]
    else:
        fate = "Unknown"
    d["fate"] = fate
    if v.handoff:
        d["macvlan"] = sorted({c.dev for c in v.handoff})
    if reason:
        d["reason"] = reason
    if out_devs:
        d["out"] = out_devs
    ct = None
    for cr in v.crs:
        if cr.ct and not (cr.own and cr.hook in ("prerouting", "output", "ingress")):
            ct = cr.ct
    if ct and ct_info(ct) != last_ct:
        d["ct"] = ct_info(ct)
    if drops:
        d["drops"] = [{"reason": x["reason"], "location": x["location"]} for x in drops]
    return d


# ------------------------------------------------------------------------------------------ main

def lab_done(work):
    """When lab.sh ended ("seconds.nanoseconds" as date +%s.%N prints it, the pcap's clock), or None for older work directories."""
    p = os.path.join(work, "lab.time")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read().strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--scenario-dir", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    W = args.work
    meta = json.load(open(os.path.join(W, "meta.json")))
    prefix = meta["prefix"]
    clock = meta["clock"]
    scen = json.load(open(os.path.join(args.scenario_dir, "scenario.json")))

    nss = {}
    for n in meta["namespaces"]:
        nss[n] = Namespace(n, os.path.join(W, "ns", n), prefix)
    # veth peers
    for ns in nss.values():
        for dev in ns.devs.values():
            if dev.kind != "veth" or dev.link_index is None:
                continue
            if dev.link_netnsid is None:
                pns = ns.name
            else:
                pns = ns.nsids.get(dev.link_netnsid)
            if pns in nss and dev.link_index in nss[pns].devs:
                dev.peer = (pns, nss[pns].devs[dev.link_index].name)

    # macvlan lower devices
    for ns in nss.values():
        for dev in ns.devs.values():
            if dev.kind != "macvlan" or dev.link_index is None:
                continue
            pns = ns.name if dev.link_netnsid is None else ns.nsids.get(dev.link_netnsid)
            if pns in nss and dev.link_index in nss[pns].devs:
                dev.lower = (pns, nss[pns].devs[dev.link_index].name)

    inums = {ns.inum: ns.name for ns in nss.values()}
    names = drop_reason_names(W)
    all_drops = load_drops(os.path.join(W, "drops.txt"), inums, names)

    lost_any = False
    n_events = 0
    visits_by_ns = {}
    copies_by_ns = {}
    for ns in nss.values():
        crs, lost, ne = load_trace(ns)
        lost_any |= lost
        n_events += ne
        journeys = build_journeys(ns, crs)
        copies = load_copies(ns, clock)
        bind_copies(ns, copies, journeys)
        visits = group_journeys(ns, journeys)
        # copies that no journey explains: a visit of their own (no chains ran for them)
        for c in copies:
            if c.journey is None:
                j = Journey(ns)
                j.rx = [] if c.out else [c]
                j.tx = [c] if c.out else []
                c.journey = j
                v = Visit(ns, [j])
                j.group = v
                visits.append(v)
        link_decapsulated(ns, visits)
        link_encapsulated(ns, visits)
        drops = [d for d in all_drops if d["ns"] == ns.name]
        left = bind_drops(ns, drops, visits)
        # without a working drop watch a mirrored copy would look like a redirect of a dropped packet
        if all_drops:
            merge_tc_redirects(ns, visits)
            merge_fwd(ns, visits)
        ns.unattributed_drops = left
        visits_by_ns[ns.name] = visits
        copies_by_ns[ns.name] = copies

    # veth links: a copy sent on X is the copy received on X's peer
    for ns in nss.values():
        for dev in ns.devs.values():
            if not dev.peer:
                continue
            pns, pdev = dev.peer
            txs = [c for c in copies_by_ns[ns.name] if c.out and c.dev == dev.name]
            rxs = [c for c in copies_by_ns[pns] if not c.out and c.dev == pdev]
            k = 0
            for tx in txs:
                for r in rxs[k:]:
                    if r.link is None and r.l3 == tx.l3 and r.ethertype == tx.ethertype and \
                            -2_000_000 <= r.t - tx.t <= 1_000_000_000:
                        r.link, tx.link = tx, r
                        k = rxs.index(r) + 1
                        break

    link_macvlans(nss, copies_by_ns)
    link_xdp_drops(nss, copies_by_ns, visits_by_ns)
    link_xdp_bulk_drops(nss, copies_by_ns, visits_by_ns, load_xdp_bulk_drops(os.path.join(W, "drops.txt")))
    link_xdp_transmits(nss, copies_by_ns, visits_by_ns, load_xdp_events(os.path.join(W, "drops.txt"), inums))
    link_xdp_native(nss, copies_by_ns, visits_by_ns, *load_xdp_redirects(os.path.join(W, "drops.txt")),
                    load_xdp_bulk_drops(os.path.join(W, "drops.txt")))

    # the wire
    wns = nss[meta["wire"]["ns"]]
    wdev = meta["wire"]["dev"]
    wire = read_pcap(os.path.join(W, "wire.pcap"))
    sums = tcpdump_summaries(os.path.join(W, "wire.pcap"))
    if len(sums) != len(wire):
        sys.exit(f"analyze: {len(wire)} frames but {len(sums)} tcpdump summary lines")
    if wdev == "any":
        frames = any_frames(wire, sums, copies_by_ns[wns.name])
    else:
        frames = device_frames(wire, sums, copies_by_ns[wns.name], wdev)
    doc = {
        "schema": 1,
        "scenario": meta["scenario"],
        "description": scen.get("description", ""),
        "kernel": meta["kernel"],
        "nft": meta["nft"],
        "made": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "wire": {"ns": wns.name, "dev": wdev, "pcap": "wire.pcap"},
        "labDone": lab_done(W),
        "namespaces": {},
        "traceLimits": TRACE_LIMITS,
        "stats": {},
        "frames": frames,
    }
    for ns in nss.values():
        devs = {}
        for dev in sorted(ns.devs.values(), key=lambda d: d.ifindex):
            e = {"ifindex": dev.ifindex, "kind": dev.kind, "mac": dev.mac}
            if dev.master:
                e["master"] = dev.master
            if dev.peer:
                e["peer"] = f"{dev.peer[0]}/{dev.peer[1]}"
            devs[dev.name] = e
        entry = {"devices": devs, "chains": ns.chain_order, "conntrack": ns.conntrack}
        if ns.expect:
            entry["expect"] = ns.expect
        if ns.conntrack_listed:
            entry["conntrackListed"] = ns.conntrack_listed
        if ns.sockets_listed:
            entry["sockets"] = ns.sockets
            entry["socketsListed"] = ns.sockets_listed
        if ns.counters is not None:
            entry["counters"] = ns.counters
        if ns.unattributed_drops:
            entry["unattributedDrops"] = [{"reason": d["reason"], "location": d["location"],
                                           "dev": ns.devname(d["ifindex"]) if d["ifindex"] else None}
                                          for d in ns.unattributed_drops]
        doc["namespaces"][ns.name] = entry
    # cross-check with nft monitor trace: the rule events it printed (those with a rule handle,
    # outside the trace tables) must be the listener's
    nft_rules = 0
    own_rules = 0
    for ns in nss.values():
        p = os.path.join(ns.dir, "nft-monitor.txt")
        if os.path.exists(p):
            nft_rules += sum(1 for line in open(p) if re.match(r"trace id \S+ \S+ (?!pfrec_trace )\S+ \S+ rule .* # handle \d+ \(verdict", line))
        for line in open(os.path.join(ns.dir, "trace.jsonl")):
            if '"handle"' in line and '"table": "pfrec_trace"' not in line:
                own_rules += 1
    att = sum(1 for f in frames if f.get("attributed"))
    doc["stats"] = {"frames": len(frames), "attributed": att, "traceEvents": n_events,
                    "traceLost": lost_any, "ruleEvents": own_rules, "nftMonitorRuleEvents": nft_rules,
                    **drop_watch_missed(W),
                    "directions": {"in": sum(1 for f in frames if f.get("direction") == "in"),
                                   "out": sum(1 for f in frames if f.get("direction") == "out")}}
    if lost_any:
        sys.exit("analyze: a trace listener lost events (netlink overflow); record again")
    if nft_rules != own_rules:
        print(f"analyze: warning: nft monitor trace printed {nft_rules} rule events, the listener read {own_rules}",
              file=sys.stderr)
    with open(args.out, "w") as f:
        f.write(dumps(doc))
        f.write("\n")
    print(f"analyze: {len(frames)} frames, {att} attributed, {n_events} trace events", file=sys.stderr)
    if doc["stats"].get("dropsMissed"):
        print(f"analyze: warning: the drop watch missed {doc['stats']['dropsMissed']} events (another BPF program was "
              "running on the CPU): packets they freed end Unknown", file=sys.stderr)



def device_frames(wire, sums, copies, wdev):
    """wire.pcap of one device (Ethernet): each frame is the copy tcpdump -i any saw on that device."""
    wcopies = sorted([c for c in copies if c.dev == wdev], key=lambda c: c.t)
    k = 0
    frames = []
    t0 = wire[0][0] if wire else 0
    for i, (t, lt, data) in enumerate(wire):
        l3 = data[14:]
        et = struct.unpack(">H", data[12:14])[0] if len(data) >= 14 else None
        if et == 0x8100 and len(data) >= 18:
            et = struct.unpack(">H", data[16:18])[0]
            l3 = data[18:]
        match = None
        for c in wcopies[k:k + 50]:
            if same_frame(c, l3) and c.wire is None:
                match = c
                k = wcopies.index(c) + 1
                break
        fr = {"frame": i + 1, "time": round((t - t0) / 1e9, 3)}
        if match is None:
            fr.update({"direction": None, "summary": sums[i], "attributed": False,
                       "note": "not found in the namespace's own capture"})
            frames.append(fr)
            continue
        match.wire = i + 1
        fr["direction"] = "out" if match.out else "in"
        fr["summary"] = sums[i]
        frames.append(attribute(fr, match))
    return frames


ANY_SNAPLEN = 9216      # record.sh: tcpdump -i any -s 9216 (the wire's own capture: -s 65535)


def same_frame(copy, l3):
    """Whether the wire frame's network bytes are the copy's. A copy as long as the namespace
    capture's snapshot length was cut there (a GSO/GRO super-packet: BIG TCP takes them past 64 KiB)
    and is the frame whose bytes begin with it."""
    if copy.l3 == l3:
        return True
    return len(copy.l3) + 20 == ANY_SNAPLEN and len(l3) > len(copy.l3) and l3.startswith(copy.l3)


def attribute(fr, copy, every_copy=False):
    """The frame's entry with what the kernel did with the packet of its copy (fate, end, path)."""
    path, end = follow(copy, every_copy)
    if path is None:
        fr["attributed"] = False
        return fr
    wire_visit = next(p for p in path if p.get("wire"))
    fr["attributed"] = True
    fr["fate"] = wire_visit["fate"]
    if wire_visit.get("reason"):
        fr["reason"] = wire_visit["reason"]
    fr["end"] = end
    fr["path"] = path
    return fr


def any_frames(wire, sums, copies):
    """wire.pcap is the wire namespace's own tcpdump -i any: frame i is copy i. A frame that shows a
    packet an earlier frame already showed (on another device, or before/after NAT: the same visit,
    or the two ends of a veth pair in this namespace) gets "copyOf": that earlier frame."""
    by_idx = {c.idx: c for c in copies}
    frames = []
    first_of = {}   # visit id -> first frame showing it
    t0 = wire[0][0] if wire else 0
    for i, (t, lt, data) in enumerate(wire):
        fr = {"frame": i + 1, "time": round((t - t0) / 1e9, 3)}
        c = by_idx.get(i)
        if c is None:
            fr.update({"direction": "out" if len(data) > 10 and data[10] == 4 else "in", "summary": sums[i], "attributed": False,
                       "note": "a copy on lo, or one that could not be read" if len(data) >= 20 else "shorter than a cooked header"})
            frames.append(fr)
            continue
        c.wire = i + 1
        fr["direction"] = "out" if c.out else "in"
        fr["dev"] = c.dev
        # tcpdump -n -t on a cooked v2 file starts with the device (named by the reader's own
        # namespace's ifindexes, wrong here) and the direction: the device is in "dev"
        parts = sums[i].split(None, 2)
        fr["summary"] = parts[2] if len(parts) == 3 and parts[1] in ("In", "Out", "B", "M", "P") else sums[i]
        keys = set()
        if c.journey is not None and c.journey.group is not None:
            keys.add(id(c.journey.group))
        if c.link is not None and c.link.journey is not None and c.link.journey.group is not None:
            keys.add(id(c.link.journey.group))
        earlier = sorted(first_of[k] for k in keys if k in first_of)
        if earlier:
            fr["copyOf"] = earlier[0]
        for k in keys:
            first_of.setdefault(k, i + 1)
        frames.append(attribute(fr, c, every_copy=True))
    return frames


def follow(copy, every_copy=False):
    """Path of the packet whose copy on the wire is `copy`: visits from where it was made to where it
    ended. Returns (path, end) or (None, None) when the wire copy cannot be tied to a visit.
    every_copy: a copy sent is followed with every other copy its visit sent (a frame sent on a bridge
    device leaves by the ports, whose copies the capture of the whole namespace also holds)."""
    v0 = copy.journey.group if copy.journey else None
    if v0 is None:
        return None, None
    if not v0.crs and not v0.drops and not copy.out and copy.link is None:
        return None, None
    # backwards: the copy received here was sent by the peer's namespace, and so on
    back = []
    cur = copy if not copy.out or copy.via is not None else (v0.rx[0] if v0.rx else None)
    cur_v = v0
    seen = {id(v0)}
    for _ in range(12):
        if cur_v.encap_of is not None and id(cur_v.encap_of) not in seen and cur is None:
            pv = cur_v.encap_of   # a tunnel packet the namespace made: the inner packet it carries came first
        elif cur_v.outer is not None and id(cur_v.outer) not in seen and (cur is None or not cur.out):
            pv = cur_v.outer      # an inner packet: its tunnel packet came first
        elif cur is not None and cur.out and cur.via is not None:
            pv = cur.via.journey.group if cur.via.journey else None     # sent by a macvlan on this device
        elif cur is None or cur.out or cur.link is None:
            break
        else:
            tx = cur.link
            pv = tx.journey.group if tx.journey else None
        if pv is None or id(pv) in seen:
            break
        seen.add(id(pv))
        back.insert(0, pv)
        cur_v = pv
        cur = pv.rx[0] if pv.rx else next((c for c in pv.tx if c.via is not None), None)
    nodes = [describe_inner(v) if v.outer is not None and v.outer in back else describe_visit(v) for v in back]
    wd = describe_inner(v0, wire_copy=copy) if v0.outer is not None and v0.outer in back else describe_visit(v0, wire_copy=copy)
    for v, d in zip(back + [v0], nodes + [wd]):
        if v.encap_of is not None and v.encap_of in back:
            d["encap"] = True
    nodes.append(wd)
    has_child = {i: True for i in range(len(nodes) - 1)}
    # forwards: every copy sent on a veth is received by the peer's namespace; a tunnel packet's
    # inner packet is received again in the same namespace
    first = [copy] if copy.out and not every_copy else list(v0.tx)
    if not copy.out or every_copy:
        first += v0.inner + [Handoff(r) for r in v0.handoff]
    queue = [(x, len(nodes) - 1) for x in first]
    # what macvlans of the same lower device received of what the sender's namespace sent (bridge mode)
    queue += [(Handoff(r), i) for i, pv in enumerate(back) for r in pv.handoff]
    while queue and len(nodes) < 24:
        x, parent = queue.pop(0)
        if isinstance(x, Visit):
            nv, d = x, None
        else:
            rx = x.link
            if rx is None or rx.journey is None or rx.journey.group is None:
                continue
            nv = rx.journey.group
        if id(nv) in seen:
            continue
        seen.add(id(nv))
        if isinstance(x, Visit):
            d = describe_inner(nv)
        else:
            d = describe_visit(nv)
            d["in"] = rx.dev
            d.pop("origin", None)
        nodes.append(d)
        has_child[parent] = True
        queue.extend((c, len(nodes) - 1) for c in list(nv.tx) + nv.inner + [Handoff(r) for r in nv.handoff])
    # a lower device whose own stack also took a broadcast it handed to macvlans ends there too
    end = [{k: d[k] for k in ("ns", "fate", "reason") if d.get(k)}
           for i, d in enumerate(nodes) if not has_child.get(i) or d.get("macvlan") and d["fate"] != "Forwarded"]
    return nodes, end


class Handoff:
    """A copy a macvlan received of a packet its lower device received (or a sibling macvlan sent):
    followed like the copy a veth peer receives."""
    def __init__(self, rx):
        self.link = rx


def link_macvlans(nss, copies_by_ns):
    """Macvlan devices (drivers/net/macvlan.c) hand packets between namespaces without a veth:
    - a copy a macvlan sent to the world is sent again on its lower device (macvlan_queue_xmit ->
      dev_queue_xmit): the lower device's copy gets `via`, the macvlan's;
    - a copy a bridge-mode macvlan sent to another one arrives on the lower device first
      (dev_forward_skb, for its taps): linked like a veth pair;
    - a copy a macvlan receives was received on its lower device (macvlan_handle_frame: unicast
      RX_HANDLER_ANOTHER, broadcast clones from a work item), or, for a broadcast a bridge-mode sibling
      sent, cloned from that sibling's copy (macvlan_broadcast): the handoff of that visit."""
    def near(a, b, after, within):
        return a.l3 == b.l3 and a.ethertype == b.ethertype and -after <= b.t - a.t <= within
    for ns in nss.values():
        for dev in ns.devs.values():
            if dev.lower is None:
                continue
            lns, ldev = dev.lower
            lower_tx = [c for c in copies_by_ns[lns] if c.out and c.dev == ldev]
            lower_rx = [c for c in copies_by_ns[lns] if not c.out and c.dev == ldev]
            for tx in sorted((c for c in copies_by_ns[ns.name] if c.out and c.dev == dev.name), key=lambda c: c.t):
                w = next((c for c in lower_tx if c.via is None and near(tx, c, 2_000_000, 1_000_000_000)), None)
                if w is not None:
                    w.via = tx
                    continue
                r = next((c for c in lower_rx if c.link is None and near(tx, c, 2_000_000, 1_000_000_000)), None)
                if r is not None:
                    r.link, tx.link = tx, r
    for ns in nss.values():
        for dev in ns.devs.values():
            if dev.lower is None:
                continue
            lns, ldev = dev.lower
            siblings = {d.name: o.name for o in nss.values() for d in o.devs.values() if d.lower == dev.lower and d is not dev}
            for rx in sorted((c for c in copies_by_ns[ns.name] if not c.out and c.dev == dev.name), key=lambda c: c.t):
                src = next((c for c in copies_by_ns[lns] if not c.out and c.dev == ldev and c.journey is not None
                            and near(c, rx, 2_000_000, 1_000_000_000) and rx not in c.journey.group.handoff
                            and not any(h.ns is ns for h in c.journey.group.handoff)), None)
                if src is None:
                    src = next((c for o in nss.values() for c in copies_by_ns[o.name]
                                if c.out and siblings.get(c.dev) == o.name and c.journey is not None
                                and near(c, rx, 2_000_000, 1_000_000_000)
                                and not any(h.ns is ns for h in c.journey.group.handoff)), None)
                if src is not None and src.journey.group is not None:
                    src.journey.group.handoff.append(rx)


def describe_inner(v, wire_copy=None):
    """A visit of a decapsulated packet: received on the tunnel device (`decap`: true)."""
    d = describe_visit(v, wire_copy)
    if d.get("in") is None and v.crs:
        d["in"] = v.ns.devname(v.crs[0].iif)
    d.pop("origin", None)
    d["decap"] = True
    return d


# ------------------------------------------------------------------------------- json writing

def dumps(obj, indent=0, width=200):
    """JSON with small objects and lists on one line."""
    flat = json.dumps(obj, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(obj, (dict, list)) or not obj:
        return flat
    pad = " " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent + 1, width)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dumps(v, indent + 1, width) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


if __name__ == "__main__":
    main()
