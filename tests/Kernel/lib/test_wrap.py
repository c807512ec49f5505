#!/usr/bin/python3
"""Checks of the namespace-name rewriting in wrap.py (no root needed): python3 test_wrap.py"""
import os
import sys

os.environ["PFREC_PREFIX"] = "pfrec-t-"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wrap  # noqa: E402

T = ["timeout", "-k", "3", os.environ.get("PFREC_EXEC_TIMEOUT", "300")]
CASES = [
    ("netns add client", "netns add pfrec-t-client"),
    ("netns del client", "netns del pfrec-t-client"),
    ("netns exec c1 ping -c 1 10.0.0.1", "netns exec pfrec-t-c1 " + " ".join(T) + " ping -c 1 10.0.0.1"),
    ("-n client link set eth0 up", "-n pfrec-t-client link set eth0 up"),
    ("-netns client -6 addr add 2001:db8::1/64 dev eth0", "-netns pfrec-t-client -6 addr add 2001:db8::1/64 dev eth0"),
    ("link add eth0 type veth peer name eth0 netns client", "link add eth0 type veth peer name eth0 netns pfrec-t-client"),
    ("link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns c",
     "link add eth0 address 02:00:00:00:01:01 type veth peer name eth0 address 02:00:00:00:01:02 netns pfrec-t-c"),
    ("-n r2 link add eth1 type veth peer name eth0 netns server", "-n pfrec-t-r2 link add eth1 type veth peer name eth0 netns pfrec-t-server"),
    ("link set veth1 netns c1", "link set veth1 netns pfrec-t-c1"),
    ("link set veth1 netns 1234", "link set veth1 netns 1234"),
    ("route add default via 10.0.0.1", "route add default via 10.0.0.1"),
    ("-n pfrec-t-host addr show", "-n pfrec-t-host addr show"),
]
bad = 0
for given, want in CASES:
    got = " ".join(wrap.wrap_ip(given.split()))
    if got != want:
        bad += 1
        print(f"ip {given}\n  got  {got}\n  want {want}")
for refused in ("-all netns exec ip link", "-batch /tmp/x"):
    try:
        wrap.wrap_ip(refused.split())
        bad += 1
        print(f"ip {refused}: not refused")
    except SystemExit:
        pass
for ok, args in ((True, ["-w", "net.ipv4.ip_forward=1"]), (False, ["-w", "kernel.panic=1"]), (False, ["-p", "/etc/sysctl.conf"])):
    try:
        wrap.wrap_sysctl(args)
        if not ok:
            bad += 1
            print(f"sysctl {args}: not refused")
    except SystemExit:
        if ok:
            bad += 1
            print(f"sysctl {args}: refused")
print(f"{len(CASES) + 5 - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
