#!/usr/bin/python3
"""Checks of how analyze.py ties a kfree_skb to a packet (no root needed): python3 test_analyze_drops.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402

# lb-ipip-fou-decap frame 17: GUE to 6080 naming protocol 47; the IP_NOPROTO drop's outer header has
# tot_len 0x2c (56 less the UDP and GUE headers) and the unchanged checksum.
wire = bytes.fromhex("45000038232d000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
dropped = bytes.fromhex("4500002c232d000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
other = bytes.fromhex("4500002c232e000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
# bridge-stp: a TCN BPDU is 7 bytes from the LLC header; the drop's 64 bytes run on past its end
tcn = bytes.fromhex("42420300000080")
tcn_drop = {"nh": tcn + bytes.fromhex("1467e5feffbec9") + bytes(50)}


class V:
    """A visit of identical bytes beginning at t (ns)."""
    def __init__(self, t):
        self.t, self.crs, self.rx, self.tx, self.drops, self.frees = t, [], [], [], [], []


class C:
    def __init__(self, l3, ifindex=0, dev="", out=False, t=0):
        self.l3, self.ifindex, self.dev, self.out, self.t, self.journey = l3, ifindex, dev, out, t, None


class J:
    def __init__(self):
        self.tx = []


def tc_mirror_drop():
    """mirred egress mirror dev eth2 drop: the copy leaves eth2 (ifindex 4) before eth0 (2) frees the packet."""
    syn = bytes.fromhex("450000281b59000040060000" "0a0100020a010001") + bytes(20)
    rx, mirror = V(0), V(1_000)
    rx.rx = [C(syn, 2, "eth0")]
    mirror.tx = [C(syn, 4, "eth2", True)]
    analyze.bind_drops(None, [{"kind": "DROP", "t": 2_000, "nh": syn + bytes(24), "reason": "TC_INGRESS", "ifindex": 2}], [rx, mirror])
    return len(rx.drops), len(mirror.drops)


def tc_redirect(dt):
    """mirred egress redirect dev eth1: the copy received on eth0 and the one sent on eth1 are one visit."""
    udp = bytes.fromhex("4500002712340000401100000a0100020a020002") + bytes(19)
    rx, tx = V(0), V(dt)
    rx.rx = [C(udp, 2, "eth0", False, 0)]
    rx.journeys = [J()]
    tx.tx = [C(udp, 3, "eth1", True, dt)]
    vs = [rx, tx]
    analyze.merge_tc_redirects(None, vs)
    return len(vs), [c.dev for c in rx.tx]


def hellos(drop_times, visit_times):
    """The bridge's identical hello (config) BPDUs on one port: visits and their drops."""
    hello = bytes.fromhex("42420300000000008000020000000000000000008000020000000000fe8001000014000200") + bytes(1)
    vs = [V(t) for t in visit_times]
    for v in vs:
        v.rx = [C(hello)]
    ds = [{"kind": "DROP", "t": t, "nh": hello + bytes(26)} for t in drop_times]
    left = analyze.bind_drops(None, ds, vs)
    return [[d["t"] for d in v.drops] for v in vs], len(left)


cases = [
    ("a whole packet shorter than 8 bytes matches", analyze.drop_matches(tcn_drop, tcn, b""), True),
    ("its first bytes alone do not", analyze.drop_matches(tcn_drop, tcn[:6] + b"\x01", b""), False),
    ("identical packets 50 ms apart take their drops in time order (listed out of order)",
     hellos([50_100_000, 100_000], [0, 50_000_000]), ([[100_000], [50_100_000]], 0)),
    ("a missing drop leaves its packet without one, not the next", hellos([10_000_100_000], [0, 10_000_000_000]),
     ([[], [10_000_100_000]], 0)),
    ("a second drop of one packet stays with it when no earlier identical one is near",
     hellos([100_000, 200_000], [-5_000_000_000, 0]), ([[], [100_000, 200_000]], 0)),
    ("a drop after fou/gue shrank tot_len matches its packet", analyze.drop_matches({"nh": dropped}, wire, b""), True),
    ("another IP id does not", analyze.drop_matches({"nh": other}, wire, b""), False),
    ("identical headers match", analyze.drop_matches({"nh": wire}, wire, b""), True),
    ("a tc drop goes to the packet on the filter's device, not the mirrored copy", tc_mirror_drop(), (1, 0)),
    ("a tc redirect's received and sent copies are one visit", tc_redirect(1_000_000), (1, ["eth1"])),
    ("not when the sent copy comes much later", tc_redirect(200_000_000), (2, [])),
    ("an echo reply icmp_rcv freed for want of a socket was delivered (its input events lost)",
     analyze.delivered_by_drop([{"reason": "NO_SOCKET", "location": "icmp_rcv"}]), True),
    ("a NO_SOCKET elsewhere proves nothing", analyze.delivered_by_drop([{"reason": "NO_SOCKET", "location": "ip_rcv_core"}]), False),
    ("nor another reason in a transport", analyze.delivered_by_drop([{"reason": "TCP_CSUM", "location": "tcp_v4_rcv"}]), False),
]
checks.run(cases)
