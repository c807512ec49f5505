#!/usr/bin/python3
"""Checks of how analyze.py follows a packet past a change of its bytes or device (no root needed):
a capture cut at its snapshot length, a VLAN device, a tunnel's inner packet.
python3 test_analyze_follow.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402


class Dev:
    def __init__(self, ifindex, name, kind, link=None):
        self.ifindex, self.name, self.kind, self.link = ifindex, name, kind, link


class Ns:
    def __init__(self, *devs):
        self.name = "h"
        self.devs = {d.ifindex: d for d in devs}
        self.byname = {d.name: d for d in devs}

    def devname(self, ifindex):
        return self.devs[ifindex].name if ifindex in self.devs else None


class Cr:
    def __init__(self, iif, nh, t):
        self.iif, self.nh, self.t = iif, nh, t


class J:
    def __init__(self, t, *crs):
        self.t, self.crs = t, list(crs)


class Copy:
    def __init__(self, dev, ifindex, l3, t=0):
        self.dev, self.ifindex, self.l3, self.t = dev, ifindex, l3, t


def visit(ns, rx):
    """A visit of one received copy (its time is the copy's)."""
    v = analyze.Visit(ns, [])
    v.rx = [rx]
    return v

# gso-bigtcp6: a 17942-byte super-packet; tcpdump -i any keeps 9216 bytes of it (20 of them its
# cooked header), the wire's own capture all of it
big = bytes(range(256)) * 70
cut = Copy("eth0", 2, big[:analyze.ANY_SNAPLEN - 20])
short = Copy("eth0", 2, big[:4000])

# bridge-vlan-filtering frame 12: h4's eth0 (ifindex 2) hands the untagged echo reply to eth0.20 (3);
# ip -j -d link names a VLAN device's lower device in the same namespace by "link"
echo_reply = bytes.fromhex("4500005400010000400100000a0014030a001404") + bytes(20)
vns = Ns(Dev(2, "eth0", "veth"), Dev(3, "eth0.20", "vlan", link="eth0"), Dev(4, "eth1", "veth"))
on_lower = J(100, Cr(2, echo_reply, 100))
on_vlan = J(150, Cr(3, echo_reply, 150), Cr(3, echo_reply, 160))
elsewhere = J(100, Cr(4, echo_reply, 100))
long_ago = J(100, Cr(2, echo_reply, 100))
routed_on = J(100, Cr(2, echo_reply, 100), Cr(4, echo_reply, 120))     # the lower device's packet went on

# lb-ipip-fou-decap: FOU to 5555 on eth0 (2) carrying a SYN that ipip0 (5) receives again
syn = bytes.fromhex("450000280002000040063c5ac63364070a64000a9c4b00500000" "03e8000000005002200000000000")
outer = bytes.fromhex("450000440bbb00004011000a0a0100020a010001" "9c4b15b30030" "0000") + syn
tns = Ns(Dev(2, "eth0", "veth"), Dev(5, "ipip0", "ipip"))


def decap(inner_t, outer_t=0, outer_bytes=outer, inner_bytes=syn):
    o = visit(tns, Copy("eth0", 2, outer_bytes, outer_t))
    w = visit(tns, Copy("ipip0", 5, inner_bytes, inner_t))
    analyze.link_decapsulated(tns, [o, w])
    return w.outer is o and o.inner == [w]


cases = [
    ("a frame is its copy's bytes", analyze.same_frame(Copy("eth0", 2, big), big), True),
    ("a copy cut at the snapshot length is the frame its bytes begin", analyze.same_frame(cut, big), True),
    ("a shorter copy that was not cut is another packet", analyze.same_frame(short, big), False),
    ("a cut copy of other bytes is another packet", analyze.same_frame(cut, bytes(len(big))), False),
    ("the VLAN device's journey continues the lower device's", analyze.vlan_lower_journey(vns, on_vlan, [on_lower]), on_lower),
    ("not another device's", analyze.vlan_lower_journey(vns, on_vlan, [elsewhere]), None),
    ("not one more than a second before", analyze.vlan_lower_journey(vns, J(2_000_000_200, Cr(3, echo_reply, 0)), [long_ago]), None),
    ("not a journey that went on past the lower device", analyze.vlan_lower_journey(vns, on_vlan, [routed_on]), None),
    ("not a journey on a device that is no VLAN", analyze.vlan_lower_journey(vns, J(150, Cr(4, echo_reply, 150)), [on_lower]), None),
    ("the inner packet on the tunnel device follows its outer packet", decap(5_000_000), True),
    ("not one received before it", decap(0, outer_t=5_000_000), False),
    ("not one more than a second later", decap(1_500_000_000), False),
    ("not a packet that does not carry it", decap(5_000_000, outer_bytes=outer[:28] + bytes(len(syn))), False),
    ("not the outer header itself", decap(5_000_000, inner_bytes=outer), False),
]
checks.run(cases)
