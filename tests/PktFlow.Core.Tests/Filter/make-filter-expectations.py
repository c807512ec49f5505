#!/usr/bin/env python3
"""Records tcpdump's verdicts for CaptureFilterConformanceTests.

    python3 tests/PktFlow.Core.Tests/Filter/make-filter-expectations.py   (from anywhere)

For every expression below and every capture (tcpdump's test captures in
../shared/conformance/pcaps-tcpdump whose link type PktFlow replays, plus the filter-*.pcap files
next to this script) it runs

    tcpdump -n -r FILE -w OUT 'EXPRESSION'

and maps the packets of OUT back to their 1-based frame numbers in FILE (OUT is a subsequence of
FILE; identical records get identical verdicts, so a greedy match is exact). When tcpdump refuses the
expression for that capture the row holds "error: " and tcpdump's message. Only cells with matches or
errors get a row. The result is written to filter-expectations.tsv next to this script.
"""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CONFORMANCE = os.path.abspath(os.path.join(REPO, "..", "shared", "conformance", "pcaps-tcpdump"))

# LINKTYPE_* values PktFlow's LinkLayer decodes (NULL, ETHERNET, RAW + legacy raw, LOOP, LINUX_SLL,
# IPV4, IPV6, LINUX_SLL2); captures of other link types are left out.
SUPPORTED_LINKTYPES = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276}

# What tcpdump's optimizer says when it proves nothing can match; the cell then simply has no matches.
REJECTS_ALL = "expression rejects all packets"

EXPRESSIONS = [
    # protocols
    "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
    "ip proto 47", "ip proto \\udp", "ip6 proto 58", "proto \\tcp", "ether proto 0x0806", "ether proto \\ip6",
    # hosts and nets
    "host 10.0.0.1", "src host 10.0.0.1", "dst host 10.0.0.2", "host 10.0.0.1 or 8.8.8.8",
    "arp host 10.0.0.1", "host 2001:db8::1", "ip6 dst host 2001:db8::2",
    "net 10.0.0.0/8", "dst net 224.0.0.0/4", "src net 192.168.0.0 mask 255.255.0.0", "net 172.16",
    "net 2001:db8::/32", "src and dst net 10.0.0.0/8",
    # ports
    "port 80", "tcp port 80", "udp port 53", "src port 53", "dst port 80 or 443", "port domain",
    "portrange 50-100", "tcp dst portrange 1-1023", "sctp port 80", "src or dst port 443",
    # link layer
    "ether broadcast", "ether multicast", "ether src 00:11:22:33:44:55", "ether dst 01:00:5e:00:00:fb",
    "ether host 00:aa:bb:cc:dd:ee and not arp",
    # vlan
    "vlan", "vlan 100", "vlan 100 and host 10.0.0.1", "vlan and ip6", "vlan and vlan 100", "not vlan and tcp",
    # lengths
    "less 64", "greater 1000", "len >= 60 and len <= 100",
    # byte-offset comparisons
    "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
    "tcp[13] & (tcp-rst|tcp-fin) != 0", "icmp[icmptype] = icmp-echo",
    "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply", "icmp6[icmp6type] = icmp6-echo",
    "ip[0] & 0xf != 5", "ip[6:2] & 0x1fff = 0", "ether[0] & 1 != 0", "udp[0:2] = 53 or udp[2:2] = 53",
    "ip6[6] = 17", "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
    "tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)",
    # boolean structure and implicit qualifiers
    "tcp port 80 and not host 10.0.0.1", "not tcp and not udp", "tcp or udp and not ip6", "not port 53 or icmp",
    "host 10.0.0.1 and (port 80 or 443)", "ip and not net 10.0.0.0/8", "udp or arp and not host 10.0.0.1",
    "! (tcp || udp) && ip",
    # multicast/broadcast, protochain, direction
    "ip multicast", "ip broadcast", "ip6 multicast", "ip6 protochain 17", "protochain 6", "outbound", "inbound",
    # corners: reads past the capture, implicit qualifiers, vlan offsets, address spellings, arithmetic
    "not tcp[100] = 1", "tcp or tcp[100:4] = 1", "host 10.0.0.1 and not 10.0.0.2", "tcp port 80 or 443 or 22",
    "(vlan or ip) and tcp", "ip or vlan", "vlan 10 and vlan 100 and icmp", "ip6 net fe80::/10",
    "ether host 001122334455", "ip protochain 1", "len % 7 = 3", "arp[7] = 1 and arp[24:4] = 0x0a000002",
    "ip[2:2] - ((ip[0] & 0xf) << 2) > 1000",
]


def read_pcap(path):
    """(link type, [(origlen, data)]) of a pcap file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 24:
        return None, []
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return None, []
    linktype = struct.unpack(endian + "I", blob[20:24])[0] & 0x0FFFFFFF
    records, pos = [], 24
    while pos + 16 <= len(blob):
        _, _, incl, orig = struct.unpack(endian + "IIII", blob[pos:pos + 16])
        data = blob[pos + 16:pos + 16 + incl]
        if len(data) < incl:
            break
        records.append((orig, data))
        pos += 16 + incl
    return linktype, records


def ranges(numbers):
    if not numbers:
        return "-"
    out, start, prev = [], numbers[0], numbers[0]
    for n in numbers[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(out)


def captures():
    files = []
    if os.path.isdir(CONFORMANCE):
        for root, _, names in os.walk(CONFORMANCE):
            for name in names:
                if name.endswith(".pcap"):
                    files.append(os.path.join(root, name))
    files += [os.path.join(HERE, n) for n in os.listdir(HERE) if n.startswith("filter-") and n.endswith(".pcap")]
    chosen = []
    for path in sorted(files, key=lambda p: os.path.relpath(p, REPO)):
        linktype, records = read_pcap(path)
        if linktype in SUPPORTED_LINKTYPES and records:
            chosen.append((path, records))
    return chosen


def main():
    version = subprocess.run(["tcpdump", "--version"], capture_output=True, text=True).stdout.splitlines()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.pcap")
        for path, records in captures():
            rel = os.path.relpath(path, REPO)
            for expr in EXPRESSIONS:
                run = subprocess.run(["tcpdump", "-n", "-r", path, "-w", out, expr], capture_output=True, text=True)
                if run.returncode != 0:
                    message = [l for l in run.stderr.splitlines() if l.startswith("tcpdump: ")]
                    rows.append((rel, expr, "error: " + (message[-1][len("tcpdump: "):] if message else run.stderr.strip())))
                    continue
                _, matched = read_pcap(out)
                numbers, i = [], 0
                for rec in matched:
                    while i < len(records) and records[i] != rec:
                        i += 1
                    if i == len(records):
                        sys.exit(f"{rel}: '{expr}': tcpdump wrote a packet that is not in the file")
                    numbers.append(i + 1)
                    i += 1
                rows.append((rel, expr, ranges(numbers)))

    target = os.path.join(HERE, "filter-expectations.tsv")
    listed = [r for r in rows if r[2] not in ("-", "error: " + REJECTS_ALL)]
    with open(target, "w", newline="\n") as f:
        f.write("# tcpdump's verdicts for CaptureFilterConformanceTests; do not edit, regenerate with\n")
        f.write("#   python3 tests/PktFlow.Core.Tests/Filter/make-filter-expectations.py\n")
        f.write(f"# Made with {version[0]} / {version[1]}, one run per capture and expression:\n")
        f.write("#   tcpdump -n -r CAPTURE -w OUT 'EXPRESSION'   (OUT's packets mapped back to their frame numbers in CAPTURE)\n")
        f.write("# Every '#capture' below was run with every '#expression'. Rows: capture (relative to the repo root),\n")
        f.write("# expression, and the matching frames (1-based, ranges) or 'error: ' and tcpdump's message when it\n")
        f.write(f"# refuses the expression for that capture. A cell with no row matched nothing ('{REJECTS_ALL}' included).\n")
        for path in sorted({r[0] for r in rows}):
            f.write(f"#capture\t{path}\n")
        for expr in EXPRESSIONS:
            f.write(f"#expression\t{expr}\n")
        for rel, expr, result in listed:
            f.write(f"{rel}\t{expr}\t{result}\n")
    print(f"{target}: {len(EXPRESSIONS)} expressions x {len(rows) // len(EXPRESSIONS)} captures, {len(listed)} rows")

if __name__ == "__main__":
    main()
