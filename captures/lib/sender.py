#!/usr/bin/python3
"""Run inside a peer namespace: send raw Ethernet frames given as hex lines on stdin out of one
interface, one frame per line, acknowledging each with "ok <bytes>" on stdout.

The AF_PACKET socket is opened with protocol 0 so it never receives anything: nothing is queued
on it (and nothing is freed from its queue when it closes), unlike a sniffing replay tool."""
import socket
import sys

ifname = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
s.bind((ifname, 0))
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    n = s.send(bytes.fromhex(line))
    print(f"ok {n}", flush=True)
