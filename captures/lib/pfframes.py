"""Helpers for captures/*/frames.py: every frame is built with explicit MACs, addresses, IP ids,
ports and payloads so that the same bytes are produced on every run."""
from scapy.all import Ether  # noqa: F401


def F(pkt, note, wait=0.25, port=0, remark=None, override=None):
    """One frame to send: pkt (a scapy Ether frame), a short description, how long to watch the host
    after sending it (seconds), the host port it is sent into (0 = eth0), an optional remark on what
    the kernel was seen to do, and optional overrides of the derived kernel.json fields (used only
    when a drop seen in the frame's window is provably not the frame's own, see the remark)."""
    fr = {"pkt": pkt, "note": note, "wait": wait, "port": port}
    if remark:
        fr["remark"] = remark
    if override:
        fr["override"] = override
    return fr


def payload(tag, size=32):
    """Deterministic payload bytes."""
    b = (tag.encode() + b" pktflow ") * (size // 8 + 2)
    return b[:size]
