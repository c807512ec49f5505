#!/usr/bin/python3
"""Listen to nftables trace events (the netlink messages `nft monitor trace` prints) in the current
network namespace and write them, one JSON object per line, to the file given as argument.

Run inside a namespace:  ip netns exec NS python3 nftrace.py OUT.jsonl

Unlike `nft monitor trace` (nftables 1.0.6 here), this keeps every attribute the kernel sends,
raw: the link-layer, network and transport header bytes the kernel dumped at the start of each base
chain run, the ifindexes, and the conntrack attributes (state, direction, status, id) that kernels
>= 6.16 add to the trace. Each event gets the CLOCK_MONOTONIC time at which it was read.

A line {"ready": true} is written once the socket has joined the trace group; {"lost": true} if the
kernel reported that the socket's receive queue overflowed (events were lost), so that the recorder
can refuse the run instead of attributing from an incomplete trace.
"""
import json
import os
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NFNLGRP_NFTRACE = 9
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_TRACE = 17
NLMSG_ERROR = 2
NLMSG_DONE = 3

# enum nft_trace_attributes
A_TABLE, A_CHAIN, A_RULE_HANDLE, A_TYPE, A_VERDICT, A_ID, A_LL, A_NH, A_TH, A_IIF, A_IIFTYPE, \
    A_OIF, A_OIFTYPE, A_MARK, A_NFPROTO, A_POLICY, A_PAD, A_CT_ID, A_CT_DIR, A_CT_STATUS, A_CT_STATE = range(1, 22)
TRACE_TYPES = {1: "policy", 2: "return", 3: "rule"}
FAMILIES = {1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
VERDICTS = {0: "drop", 1: "accept", 2: "stolen", 3: "queue", 4: "repeat", 5: "stop",
            -1: "continue", -2: "break", -3: "jump", -4: "goto", -5: "return"}


def attrs(buf):
    """Netlink attributes of buf as {type: bytes} (nested flag masked off)."""
    out = {}
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        out[atype & 0x3FFF] = buf[off + 4: off + alen]
        off += (alen + 3) & ~3
    return out


def be32(b):
    return struct.unpack(">I", b)[0]


def decode(payload, t):
    family = payload[0]
    a = attrs(payload[4:])
    ev = {"t": t, "family": FAMILIES.get(family, str(family))}
    if A_TABLE in a:
        ev["table"] = a[A_TABLE].rstrip(b"\0").decode()
    if A_CHAIN in a:
        ev["chain"] = a[A_CHAIN].rstrip(b"\0").decode()
    if A_ID in a:
        ev["id"] = "%08x" % be32(a[A_ID])
    if A_TYPE in a:
        ev["type"] = TRACE_TYPES.get(be32(a[A_TYPE]), str(be32(a[A_TYPE])))
    if A_RULE_HANDLE in a:
        ev["handle"] = struct.unpack(">Q", a[A_RULE_HANDLE])[0]
    if A_VERDICT in a:
        v = attrs(a[A_VERDICT])
        if 1 in v:
            code = struct.unpack(">i", v[1])[0]
            ev["verdict"] = VERDICTS.get(code & 0xFF if code >= 0 else code, str(code))
            if code >= 0 and code >> 16:
                ev["verdictData"] = code >> 16      # e.g. queue number
        if 2 in v:
            ev["verdictChain"] = v[2].rstrip(b"\0").decode()
    if A_POLICY in a:
        ev["policy"] = VERDICTS.get(be32(a[A_POLICY]), str(be32(a[A_POLICY])))
    for k, name in ((A_IIF, "iif"), (A_OIF, "oif"), (A_MARK, "mark"), (A_NFPROTO, "nfproto")):
        if k in a:
            ev[name] = be32(a[k])
    for k, name in ((A_IIFTYPE, "iiftype"), (A_OIFTYPE, "oiftype")):
        if k in a:
            ev[name] = struct.unpack(">H", a[k])[0]
    for k, name in ((A_LL, "ll"), (A_NH, "nh"), (A_TH, "th")):
        if k in a:
            ev[name] = a[k].hex()
    if A_CT_STATE in a:
        ct = {"state": be32(a[A_CT_STATE])}
        if A_CT_DIR in a:
            ct["direction"] = a[A_CT_DIR][0]
        if A_CT_ID in a:
            ct["id"] = be32(a[A_CT_ID])
        if A_CT_STATUS in a:
            ct["status"] = be32(a[A_CT_STATUS])
        ev["ct"] = ct
    return ev


def main():
    out = open(sys.argv[1], "w", buffering=1)
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)       # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTRACE)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s.settimeout(0.2)
    out.write(json.dumps({"ready": True, "t": time.monotonic_ns(), "pid": os.getpid()}) + "\n")
    deadline = time.monotonic() + float(os.environ.get("PFREC_TRACE_MAX_SECONDS", "900"))
    while not stop and time.monotonic() < deadline:
        try:
            data = s.recv(1 << 20)
        except socket.timeout:
            continue
        except OSError as e:
            if e.errno == 105:      # ENOBUFS: the kernel dropped messages for this socket
                out.write(json.dumps({"lost": True, "t": time.monotonic_ns()}) + "\n")
                continue
            raise
        t = time.monotonic_ns()
        off = 0
        while off + 16 <= len(data):
            mlen, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
            if mlen < 16:
                break
            if mtype == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE):
                out.write(json.dumps(decode(data[off + 16: off + mlen], t)) + "\n")
            off += (mlen + 3) & ~3
    out.close()


if __name__ == "__main__":
    main()
