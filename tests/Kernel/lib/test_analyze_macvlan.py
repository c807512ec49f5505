#!/usr/bin/python3
"""Checks of how analyze.py follows a packet across macvlan devices (no root needed): link_macvlans
ties what a macvlan sends to the lower device's copy (to the world, or arriving for a bridge-mode
sibling) and what a macvlan receives to the lower device's received copy or a sibling's sent one.
python3 test_analyze_macvlan.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402


class Dev:
    def __init__(self, name, lower=None):
        self.name, self.lower = name, lower


class Ns:
    def __init__(self, name, *devs):
        self.name = name
        self.devs = {i: d for i, d in enumerate(devs)}


class Copy:
    def __init__(self, ns, dev, out, l3, t):
        self.ns, self.dev, self.out, self.l3, self.t = ns, dev, out, l3, t
        self.ethertype = 0x0800
        self.link = self.via = None
        self.journey = analyze.Journey.__new__(analyze.Journey)
        self.journey.group = analyze.Visit(ns, [])


host = Ns("host", Dev("eth0"))
c1 = Ns("c1", Dev("mv1", lower=("host", "eth0")))
c2 = Ns("c2", Dev("mv2", lower=("host", "eth0")))
nss = {"host": host, "c1": c1, "c2": c2}
to_world, to_c2, from_wire, bcast = b"w" * 20, b"s" * 20, b"r" * 20, b"b" * 20
copies = {
    # c1 -> the world: sent on mv1, then on eth0
    # c1 -> c2 (bridge mode): sent on mv1, arriving on eth0 (dev_forward_skb), received on mv2
    # the world -> c1: received on eth0, then on mv1
    # a broadcast c1 sends in bridge mode: c2's clone, no copy on eth0's receive side
    "c1": [Copy(c1, "mv1", True, to_world, 1000), Copy(c1, "mv1", True, to_c2, 2000),
           Copy(c1, "mv1", False, from_wire, 3010), Copy(c1, "mv1", True, bcast, 4000)],
    "host": [Copy(host, "eth0", True, to_world, 1005), Copy(host, "eth0", False, to_c2, 2005),
             Copy(host, "eth0", False, from_wire, 3000), Copy(host, "eth0", True, bcast, 4002)],
    "c2": [Copy(c2, "mv2", False, to_c2, 2010), Copy(c2, "mv2", False, bcast, 4001)],
}
analyze.link_macvlans(nss, copies)
mv1_world, mv1_to_c2, mv1_rx, mv1_bcast = copies["c1"]
eth0_world, eth0_from_c1, eth0_rx, eth0_bcast = copies["host"]
mv2_rx, mv2_bcast = copies["c2"]
checks.run([
    ("a macvlan's frame to the world: the lower device's copy is sent via it", eth0_world.via is mv1_world, True),
    ("bridge mode to a sibling: linked to the lower device's arriving copy", (eth0_from_c1.link is mv1_to_c2, mv1_to_c2.link is eth0_from_c1), (True, True)),
    ("... which hands it to the sibling", eth0_from_c1.journey.group.handoff == [mv2_rx], True),
    ("received on the lower device, handed to the macvlan with the MAC", eth0_rx.journey.group.handoff == [mv1_rx], True),
    ("a bridge-mode broadcast: the sibling's clone comes from the sender's copy", mv1_bcast.journey.group.handoff == [mv2_bcast], True),
    ("... and the broadcast also leaves by the lower device", eth0_bcast.via is mv1_bcast, True),
])
