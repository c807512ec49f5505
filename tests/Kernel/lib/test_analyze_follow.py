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


# vxlan-flannel: flannel.1 (6) sends a pod's echo request; vxlan_xmit_one makes the datagram that
# leaves eth0 (2), a journey of its own with no copy received
ping = bytes.fromhex("45000054a1b240003f01c2e80af401020af40202") + bytes(64)
vx = bytes.fromhex("450000860000000040110000c0a83201c0a83202" "ed6621180072" "0000" "0800000000000100") \
    + bytes.fromhex("020000000a02020000000a010800") + ping
xns = Ns(Dev(2, "eth0", "veth"), Dev(4, "veth1", "veth"), Dev(6, "flannel.1", "vxlan"))


def encap(inner_t, outer_t=5_000_000, outer_bytes=vx, inner_dev=(6, "flannel.1")):
    w = analyze.Visit(xns, [])
    w.rx, w.tx = [Copy("veth1", 4, ping, 0)], [Copy(inner_dev[1], inner_dev[0], ping, inner_t)]
    o = analyze.Visit(xns, [])
    o.tx = [Copy("eth0", 2, outer_bytes, outer_t)]
    analyze.link_encapsulated(xns, [w, o])
    return o.encap_of is w


def summaries(text):
    import subprocess
    real = subprocess.run
    subprocess.run = lambda *a, **k: type("R", (), {"stdout": text})()
    try:
        return analyze.tcpdump_summaries("x.pcap")
    finally:
        subprocess.run = real


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
    ("a tunnel packet made here goes back to the inner packet sent on the tunnel device", encap(1_000_000), True),
    ("not one sent after it", encap(6_000_000), False),
    ("not one sent more than a second before", encap(0, outer_t=1_500_000_000), False),
    ("not a packet sent on a device that is no tunnel", encap(1_000_000, inner_dev=(4, "veth1")), False),
    ("not a datagram that does not carry it", encap(1_000_000, outer_bytes=vx[:50] + bytes(len(ping))), False),
    ("tcpdump's line for a VXLAN datagram's inner packet joins its frame",
     summaries("    1  IP 192.168.50.1.60774 > 192.168.50.2.8472: OTV, flags [I] (0x08), overlay 0, instance 1\nIP 10.244.1.2 > 10.244.2.2: ICMP echo request\n    2  ARP, Request\n"),
     ["IP 192.168.50.1.60774 > 192.168.50.2.8472: OTV, flags [I] (0x08), overlay 0, instance 1 | IP 10.244.1.2 > 10.244.2.2: ICMP echo request", "ARP, Request"]),
]
checks.run(cases)
