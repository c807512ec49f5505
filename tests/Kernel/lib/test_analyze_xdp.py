#!/usr/bin/python3
"""Checks of how analyze.py follows a frame generic XDP sent back or redirected, or native XDP on a
veth sent back, redirected or failed to (no root needed):
python3 test_analyze_xdp.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402


class D:
    def __init__(self, name, ifindex, peer):
        self.name, self.ifindex, self.peer = name, ifindex, peer


class NS:
    def __init__(self, name, devs):
        self.name, self.devs = name, {d.ifindex: d for d in devs}


class C:
    def __init__(self, ns, dev, out, t, l3):
        self.ns, self.dev, self.out, self.t, self.l3 = ns, dev, out, t, l3
        self.ifindex, self.link, self.journey, self.wire, self.ethertype = 2, None, None, None, 0x0800


def frame(l3):
    return bytes(12) + b"\x08\x00" + l3[:50] + bytes(max(0, 50 - len(l3)))


def run(request, reply, tx_ns="client", tx_t=2_000_000, seen=None):
    """client/eth0 sends request at 0; the host's XDP (eth0, eth1 -> server) sends reply at tx_t,
    received by tx_ns's eth0 20 us later (as seen, when given)."""
    client = NS("client", [D("eth0", 2, ("host", "eth0"))])
    server = NS("server", [D("eth0", 2, ("host", "eth1"))])
    host = NS("host", [D("eth0", 2, ("client", "eth0")), D("eth1", 3, ("server", "eth0"))])
    nss = {n.name: n for n in (client, server, host)}
    sent = C(client, "eth0", True, 0, request)
    got = C(nss[tx_ns], "eth0", False, tx_t + 20_000, seen or reply)
    copies = {"client": [sent], "server": [], "host": []}
    copies[tx_ns].append(got)
    visits = {n: [] for n in nss}
    events = [{"kind": "XRX", "t": 1_000_000, "ns": "host", "ifindex": 2, "skb": "ff01", "frame": frame(request)},
              {"kind": "XTX", "t": tx_t, "ns": tx_ns, "ifindex": 2, "skb": "ff01", "frame": frame(reply)}]
    analyze.link_xdp_transmits(nss, copies, visits, events)
    v = visits["host"][0] if visits["host"] else None
    return v, sent, got


echo = bytes.fromhex("450000540001400040010000" "0a0100020a010001") + bytes.fromhex("0800") + bytes(62)
reflected = bytes.fromhex("450000540001400040010000" "0a0100010a010002") + bytes.fromhex("0000") + bytes(62)
cases = []
v, sent, got = run(echo, reflected)
cases.append(("XDP_TX: a visit of the host between the request sent and the reply received",
              (v is not None, v and v.rx[0].dev, v and v.tx[0].dev, sent.link is (v and v.rx[0]), got.link is (v and v.tx[0])),
              (True, "eth0", "eth0", True, True)))
cases.append(("XDP_TX: the visit is Forwarded via xdp", (analyze.describe_visit(v)["fate"], analyze.describe_visit(v)["via"]), ("Forwarded", "xdp")))
v, sent, got = run(echo, echo, tx_ns="server")
cases.append(("XDP_REDIRECT: out of the device whose peer received it", v and v.tx[0].dev, "eth1"))
v, _, _ = run(echo, reflected, tx_t=80_000_000)
cases.append(("an XTX more than 50 ms after its XRX is not the same frame", v, None))
v, _, _ = run(echo, reflected, seen=echo)
cases.append(("a received copy with other bytes than the XTX frame is not it", v, None))


def bulk(err=-6, t=3_000_000, ifindex=2):
    """client/eth0 sends at 0 (and something else at -2 s); native XDP on host/eth0 sends it back with
    XDP_TX and veth_xdp_xmit refuses it: an XBULK event on host's ifindex 2 at t."""
    client = NS("client", [D("eth0", 2, ("host", "eth0"))])
    host = NS("host", [D("eth0", 2, ("client", "eth0"))])
    nss = {"client": client, "host": host}
    old, sent = C(client, "eth0", True, -2_000_000_000, echo), C(client, "eth0", True, 0, echo)
    copies = {"client": [old, sent], "host": []}
    visits = {"client": [], "host": []}
    analyze.link_xdp_bulk_drops(nss, copies, visits, [{"t": t, "ifindex": ifindex, "sent": 0, "drops": 1, "err": err}])
    return (visits["host"][0] if visits["host"] else None), sent, old


v, sent, old = bulk()
cases.append(("native XDP_TX refused: the last copy the peer sent ends Dropped in the host",
              (sent.link is (v and v.rx[0]), old.link, v and analyze.describe_visit(v)["fate"], v and analyze.describe_visit(v).get("reason")),
              (True, None, "Dropped", "xdp_bulk_tx -ENXIO")))
v, _, _ = bulk(t=1_500_000_000)
cases.append(("an XBULK more than a second after the copy is not its frame", v, None))
v, _, _ = bulk(ifindex=3)
cases.append(("an XBULK of another device is not its frame", v, None))


def native(redirect_err=0, flush=(1, 0, 0), bulk_sent=0, arrive=True):
    """Native XDP on host/eth0 takes what client/eth0 sent at 0 and redirects it to eth1 (XREDIR at
    1 ms, XDEVMAP flush at 1.01 ms with (sent, drops, err)), or sends it back (XBULK with bulk_sent);
    the server's eth0 (or the client's, for XDP_TX) receives a copy 20 us after, when arrive."""
    client = NS("client", [D("eth0", 2, ("host", "eth0"))])
    server = NS("server", [D("eth0", 2, ("host", "eth1"))])
    host = NS("host", [D("eth0", 2, ("client", "eth0")), D("eth1", 3, ("server", "eth0"))])
    nss = {n.name: n for n in (client, server, host)}
    sent = C(client, "eth0", True, 0, echo)
    copies = {"client": [sent], "server": [], "host": []}
    got = C(client if bulk_sent else server, "eth0", False, 1_030_000, reflected if bulk_sent else echo)
    if arrive:
        copies[got.ns.name].append(got)
    visits = {n: [] for n in nss}
    redirects = [] if bulk_sent else [{"t": 1_000_000, "ifindex": 2, "to": 3, "err": redirect_err, "map_id": 0}]
    flushes = [] if bulk_sent or redirect_err else [{"t": 1_010_000, "from": 2, "to": 3, "sent": flush[0], "drops": flush[1], "err": flush[2]}]
    bulks = [{"t": 1_000_000, "ifindex": 2, "sent": bulk_sent, "drops": 0, "err": 0}] if bulk_sent else []
    analyze.link_xdp_native(nss, copies, visits, redirects, flushes, bulks)
    v = visits["host"][0] if visits["host"] else None
    d = analyze.describe_visit(v) if v else {}
    return v, d, sent, got


v, d, sent, got = native()
cases.append(("native XDP_REDIRECT sent: Forwarded via xdp out of eth1, between the two copies",
              (d.get("fate"), d.get("via"), v and v.tx[0].dev, sent.link is (v and v.rx[0]), got.link is (v and v.tx[0])),
              ("Forwarded", "xdp", "eth1", True, True)))
v, d, _, _ = native(redirect_err=-95)
cases.append(("native XDP_REDIRECT refused by xdp_do_redirect: Dropped with the error",
              (d.get("fate"), d.get("reason"), d.get("drops")), ("Dropped", "xdp_redirect_err -EOPNOTSUPP", [{"reason": "xdp_redirect_err -EOPNOTSUPP", "location": "xdp_do_redirect"}])))
v, d, _, _ = native(flush=(0, 1, 0))
cases.append(("native XDP_REDIRECT dropped by ndo_xdp_xmit at the flush", (d.get("fate"), d.get("reason")), ("Dropped", "xdp_devmap_xmit")))
v, d, _, _ = native(flush=(0, 1, -6))
cases.append(("... with the flush's error", d.get("reason"), "xdp_devmap_xmit -ENXIO"))
v, _, _, _ = native(arrive=False)
cases.append(("a redirect sent without a copy at the target's peer is not followed", v, None))
v, d, sent, got = native(bulk_sent=1)
cases.append(("native XDP_TX the peer took: Forwarded via xdp back out of eth0",
              (d.get("fate"), d.get("via"), v and v.tx[0].dev, got.link is (v and v.tx[0])), ("Forwarded", "xdp", "eth0", True)))
checks.run(cases)
