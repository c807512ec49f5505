#!/bin/bash
# Records what the Linux kernel does with every packet of a scenario (see tests/scenarios/README.md).
#
#   sudo tests/Kernel/record.sh [--out DIR] [--keep-work] SCENARIO
#
# For tests/scenarios/SCENARIO/ (lab.sh, traffic.sh, scenario.json) it
#   1. creates the namespace pfrec-SCENARIO-host and runs lab.sh inside it with a directory of
#      wrappers first on PATH (lib/wrap.py): every namespace the lab names (host, client, c1, ...)
#      really is pfrec-SCENARIO-NAME, and no command can touch any other namespace;
#   2. snapshots every namespace (devices, veth peers, nft ruleset with rule handles), waits until
#      IPv6 duplicate address detection is over and the links are quiet;
#   3. adds the trace tables (table inet/bridge/arp/netdev pfrec_trace: `meta nftrace set 1` in the
#      earliest chains, empty observer chains at the end of input/forward/postrouting), listens to the
#      trace in every namespace (lib/nftrace.py), captures every device of every namespace
#      (tcpdump -i any) and the wire point of scenario.json (tcpdump -i DEV -> wire.pcap), and
#      watches skb:kfree_skb in the scenario's namespaces with bpftrace;
#   4. runs traffic.sh (bounded: it runs under `timeout`, and every `ip netns exec` too), waits,
#      lists conntrack, the TCP/UDP sockets (ss -tan, ss -uan) in every namespace (and when) and the
#      counters (nft -j list ruleset, also before step 3: kernel.json keeps what the traffic added to
#      every rule counter, named counter, quota and set element counter), stops everything;
#   5. writes wire.pcap and kernel.json (lib/analyze.py) into the scenario directory (or --out DIR)
#      and prints the scenario's line for tests/scenarios/README.md.
# Everything it made is deleted on exit (trap), also on failure or interruption.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
OUT=
KEEP=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) OUT=$2; shift 2 ;;
        --keep-work) KEEP=1; shift ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        -*) echo "record.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -eq 1 ]] || { echo "usage: record.sh [--out DIR] [--keep-work] SCENARIO" >&2; exit 2; }
SC=$1
[[ $SC =~ ^[a-z0-9][a-z0-9-]{0,38}$ ]] || { echo "record.sh: bad scenario name '$SC'" >&2; exit 2; }
SDIR=$ROOT/tests/scenarios/$SC
for f in lab.sh traffic.sh scenario.json; do
    [[ -f $SDIR/$f ]] || { echo "record.sh: $SDIR/$f is missing" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "record.sh: must run as root" >&2; exit 2; }
OUT=${OUT:-$SDIR}
mkdir -p "$OUT"
# PFREC_SLOW (default 1) multiplies the recorder's own time bounds (lab.sh, traffic.sh, the start of
# the listeners): the emulated VM of tests/Kernel/vm/ runs commands many times slower
SLOW=${PFREC_SLOW:-1}
[[ $SLOW =~ ^[1-9][0-9]?$ ]] || { echo "record.sh: bad PFREC_SLOW '$SLOW'" >&2; exit 2; }
OUT=$(cd "$OUT" && pwd)

log() { printf '[record %s] %s\n' "$SC" "$*" >&2; }

for tool in ip nft tcpdump bpftrace conntrack timeout flock; do
    command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done
IPBIN=$(command -v ip)
"$PY" -c 'import scapy' 2>/dev/null || { log "missing python3-scapy (apt-get install python3-scapy)"; exit 1; }
[[ -e /sys/kernel/tracing/events/skb/kfree_skb/format ]] || mount -t tracefs nodev /sys/kernel/tracing

# PFREC_NS_PREFIX (default pfrec) and PFREC_TAG (optional) keep parallel recorders of one machine
# apart: PREFIX-TAG-SCENARIO-NS.
PREFIX="${PFREC_NS_PREFIX:-pfrec}-${PFREC_TAG:+$PFREC_TAG-}$SC-"
RUNID="$PREFIX$$"
STATE=/run/pfrec
mkdir -p "$STATE"
NSLIST=$STATE/$SC.ns          # every namespace this recording created (for cleanup, also of a crashed run)
exec 9>"$STATE/$SC.lock"
flock -n 9 || { log "another recording of $SC is running"; exit 1; }

WORK=$(mktemp -d "/tmp/pfrec-$SC.XXXXXX")
PIDS=()

# processes started by this recording's lab.sh / traffic.sh carry PFREC_RUN=$RUNID in their
# environment: a fallback for those `ip netns pids` cannot find (their namespace already gone)
kill_marked() {
    local p
    for p in /proc/[0-9]*; do
        [[ ${p#/proc/} == "$$" || ${p#/proc/} == "$BASHPID" ]] && continue
        if { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "PFREC_RUN=$RUNID"; then
            kill -s "$1" "${p#/proc/}" 2>/dev/null || true
        fi
    done
}

del_namespaces() {
    local n pids round
    kill_marked TERM
    [[ -f $NSLIST ]] || return 0
    for round in TERM KILL; do
        while read -r n; do
            [[ $n == "$PREFIX"* && -e /run/netns/$n ]] || continue
            pids=$(ip netns pids "$n" 2>/dev/null || true)
            if [[ -n $pids ]]; then
                # shellcheck disable=SC2086
                kill -s "$round" $pids 2>/dev/null || true
            fi
        done <"$NSLIST"
        sleep 0.3
    done
    while read -r n; do
        [[ $n == "$PREFIX"* && -e /run/netns/$n ]] || continue
        ip netns del "$n" 2>/dev/null || log "could not delete namespace $n"
    done <"$NSLIST"
    rm -f "$NSLIST"
    kill_marked KILL
}

cleanup() {
    set +e
    local pid
    for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
    PIDS=()
    del_namespaces
    if [[ $KEEP == 1 ]]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
    rm -f "$STATE/$SC.lock"
    rmdir "$STATE" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# leftovers of an interrupted recording of this scenario
del_namespaces

# scenario.json
read -r WIRE_NS WIRE_DEV SETTLE TAIL TMAX QUIET < <("$PY" - "$SDIR/scenario.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
ns, dev = s["wire"].split("/")
print(ns, dev, s.get("settle", 2.0), s.get("tail", 1.0), s.get("timeout", 120), s.get("quiet", 6.5))
EOF
)
TMAX=$((TMAX * SLOW))

# wrappers
WRAP=$WORK/bin
mkdir -p "$WRAP"
for w in ip sysctl nft iptables iptables-restore iptables-nft iptables-nft-restore ip6tables \
         ip6tables-restore ip6tables-nft ip6tables-nft-restore ebtables arptables tc bridge conntrack \
         ethtool modprobe ipset; do
    ln -s "$HERE/lib/wrap.py" "$WRAP/$w"
done
ln -s "$HERE/bin/sendframe" "$WRAP/sendframe"
export PFREC_MNTNS=/proc/$$/ns/mnt PFREC_PREFIX=$PREFIX PFREC_WRAPDIR=$WRAP PFREC_NSLIST=$NSLIST PFREC_EXEC_TIMEOUT=$((TMAX + 60))
RUNPATH="$WRAP:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# 1. lab
echo "${PREFIX}host" >"$NSLIST"
ip netns add "${PREFIX}host"
ip -n "${PREFIX}host" link set lo up
log "lab.sh"
(cd "$SDIR" && PFREC_RUN=$RUNID PATH=$RUNPATH timeout $((120 * SLOW)) "$IPBIN" netns exec "${PREFIX}host" bash -e ./lab.sh) \
    >"$WORK/lab.out" 2>&1 9>&- || { cat "$WORK/lab.out" >&2; log "lab.sh failed"; exit 1; }
# when the lab ended (CLOCK_REALTIME, the capture's clock): timers the lab started (STP) run from here
date +%s.%N >"$WORK/lab.time"
# every namespace the lab made (the ip wrapper lists each `ip netns add` in $NSLIST)
sort -u "$NSLIST" >"$WORK/ns.all"
cp "$WORK/ns.all" "$NSLIST"
mapfile -t NSS < <(sed "s/^$PREFIX//" "$NSLIST")
log "namespaces: ${NSS[*]}"
[[ -e /run/netns/$PREFIX$WIRE_NS ]] || { log "wire namespace $WIRE_NS does not exist"; exit 1; }

# 2. snapshot (before the trace tables exist), then settle
for n in "${NSS[@]}"; do
    d=$WORK/ns/$n
    mkdir -p "$d"
    full=$PREFIX$n
    stat -L -c %i "/run/netns/$full" >"$d/inum"
    ip -n "$full" -j -d link show >"$d/link.json"
    ip -n "$full" -j addr show >"$d/addr.json"
    ip -n "$full" netns list-id >"$d/listid.txt" 2>/dev/null || true
    ip netns exec "$full" nft -a -s list ruleset >"$d/ruleset.txt"
    ip netns exec "$full" nft -j list ruleset >"$d/ruleset.json"
    # tc filters as `tc filter show` prints them, under "dev D ingress|egress" lines (the snapshot format
    # TcShowParser reads): kept with --keep-work, to check that parser against real output
    for dev in $("$PY" -c 'import json,sys; print(" ".join(l["ifname"] for l in json.load(open(sys.argv[1]))))' "$d/link.json"); do
        for dir in ingress egress; do
            out=$(tc -n "$full" filter show dev "$dev" "$dir" 2>/dev/null) || continue
            [[ -z $out ]] || printf 'dev %s %s\n%s\n' "$dev" "$dir" "$out"
        done
    done >"$d/tc.txt"
done
# "wire": "NS/any": wire.pcap is NS's own tcpdump -i any (every device, cooked v2), not one device's
[[ $WIRE_DEV == any ]] || ip -n "$PREFIX$WIRE_NS" link show "$WIRE_DEV" >/dev/null || { log "wire device $WIRE_DEV not in $WIRE_NS"; exit 1; }
deadline=$((SECONDS + 15))
while ((SECONDS < deadline)); do
    busy=0
    for n in "${NSS[@]}"; do
        if ip -n "$PREFIX$n" -6 addr show tentative 2>/dev/null | grep -q inet6; then busy=1; fi
    done
    ((busy == 0)) && break
    sleep 0.3
done
sleep "$SETTLE"

# the counters before the captures start (nft -j list ruleset): kernel.json keeps what the traffic
# added to them (lib/counters.py), not what the lab's own packets counted while it settled
for n in "${NSS[@]}"; do
    ip netns exec "$PREFIX$n" nft -j list ruleset >"$WORK/ns/$n/counters-before.json"
done

# 3. trace tables, listeners, captures, drop watch
for n in "${NSS[@]}"; do
    full=$PREFIX$n
    "$PY" - "$WORK/ns/$n/link.json" >"$WORK/ns/$n/trace.nft" <<'EOF'
import json, sys
lo, hi = -2147483648, 2147483646
print("table inet pfrec_trace {")
print(f"  chain pre {{ type filter hook prerouting priority {lo}; meta nftrace set 1; }}")
print(f"  chain out {{ type filter hook output priority {lo}; meta nftrace set 1; }}")
for h in ("input", "forward", "postrouting"):
    print(f"  chain {h}_end {{ type filter hook {h} priority {hi}; }}")
print("}")
print("table bridge pfrec_trace {")
print(f"  chain pre {{ type filter hook prerouting priority {lo}; meta nftrace set 1; }}")
print(f"  chain out {{ type filter hook output priority {lo}; meta nftrace set 1; }}")
for h in ("input", "forward", "postrouting"):
    print(f"  chain {h}_end {{ type filter hook {h} priority {hi}; }}")
print("}")
print("table arp pfrec_trace {")
print(f"  chain in {{ type filter hook input priority {lo}; meta nftrace set 1; }}")
print(f"  chain out {{ type filter hook output priority {lo}; meta nftrace set 1; }}")
print(f"  chain input_end {{ type filter hook input priority {hi}; }}")
print(f"  chain output_end {{ type filter hook output priority {hi}; }}")
print("}")
devs = [l for l in json.load(open(sys.argv[1])) if l["ifname"] != "lo"]
if devs:
    print("table netdev pfrec_trace {")
    for l in devs:
        print(f'  chain ingress_{l["ifindex"]} {{ type filter hook ingress device "{l["ifname"]}" priority {lo}; meta nftrace set 1; }}')
    print("}")
EOF
    ip netns exec "$full" nft -f "$WORK/ns/$n/trace.nft"
    PFREC_TRACE_MAX_SECONDS=$((TMAX + 120)) ip netns exec "$full" "$PY" "$HERE/lib/nftrace.py" "$WORK/ns/$n/trace.jsonl" &
    PIDS+=($!)
    # nft's own view of the same trace, for a cross-check of the rule events (and for humans)
    timeout $((TMAX + 120)) ip netns exec "$full" nft -a monitor trace >"$WORK/ns/$n/nft-monitor.txt" 2>&1 &
    PIDS+=($!)
    timeout $((TMAX + 120)) ip netns exec "$full" tcpdump -i any -y LINUX_SLL2 -s 9216 -B 65536 -U --immediate-mode \
        --time-stamp-precision nano -c 20000 -w "$WORK/ns/$n/any.pcap" 2>"$WORK/ns/$n/any.err" &
    PIDS+=($!)
done
if [[ $WIRE_DEV != any ]]; then
    timeout $((TMAX + 120)) ip netns exec "$PREFIX$WIRE_NS" tcpdump -i "$WIRE_DEV" -s 65535 -B 65536 -U --immediate-mode \
        -c 2000 -w "$WORK/wire.pcap" 2>"$WORK/wire.err" &
    PIDS+=($!)
fi

INUMS=$(cat "$WORK"/ns/*/inum | tr '\n' ' ')
COND=$(for i in $INUMS; do printf '$ns == %s || ' "$i"; done)
COND=${COND% || }
sed "s/NSCOND/$COND/" "$HERE/lib/drops.bt" >"$WORK/drops.bt"
# stdout unbuffered (-B none; -o FILE would be written only when bpftrace exits): every event is in
# drops.txt as soon as bpftrace read it, so stopping it (even killing it, when it is slow to detach
# its probes in the emulated VM) loses nothing it had read
timeout $((TMAX + 120)) bpftrace -B none "$WORK/drops.bt" >"$WORK/drops.txt" 2>"$WORK/bpftrace.err" &
PIDS+=($!)
BTWATCH=$!

wait_for() {   # wait_for FILE PATTERN WHAT
    local deadline=$((SECONDS + 30 * SLOW))
    until grep -q "$2" "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || { log "$3 did not start"; cat "$1" >&2 2>/dev/null || true; exit 1; }
        sleep 0.1
    done
}
for n in "${NSS[@]}"; do
    wait_for "$WORK/ns/$n/trace.jsonl" ready "trace listener in $n"
    wait_for "$WORK/ns/$n/any.err" "listening on" "tcpdump in $n"
done
[[ $WIRE_DEV == any ]] || wait_for "$WORK/wire.err" "listening on" "tcpdump on the wire"
wait_for "$WORK/drops.txt" Attaching "bpftrace"
# the listeners say they are ready a little before they see everything (0.5 s here; under the VM's
# emulation the first frames of the traffic were missed in one namespace with 0.5 s)
sleep "$((SLOW * 5 / 10)).$((SLOW * 5 % 10))"

# clock: pcap times are CLOCK_REALTIME, trace and drop times CLOCK_MONOTONIC
"$PY" -c '
import time
best = min((time.clock_gettime_ns(time.CLOCK_REALTIME) - time.monotonic_ns()) for _ in range(50))
print(best)' >"$WORK/clock"

# 4. traffic
log "traffic.sh"
(cd "$SDIR" && PFREC_RUN=$RUNID PATH=$RUNPATH timeout "$TMAX" "$IPBIN" netns exec "${PREFIX}host" bash -e ./traffic.sh) \
    >"$WORK/traffic.out" 2>&1 9>&- || { cat "$WORK/traffic.out" >&2; log "traffic.sh failed"; exit 1; }
# keep capturing for TAIL seconds, and until no device of any namespace has seen a packet for QUIET
# seconds (a neighbour entry used by the traffic is probed 5 s later; those probes belong to the
# recording), at most 30 s more
sleep "$TAIL"
"$PY" - "$QUIET" "$WORK"/ns/*/any.pcap <<'PYEOF'
import os, sys, time
quiet, files = float(sys.argv[1]), sys.argv[2:]
size = lambda: sum(os.path.getsize(f) for f in files if os.path.exists(f))
last, changed, end = size(), time.monotonic(), time.monotonic() + 30
while time.monotonic() < end and time.monotonic() - changed < quiet:
    time.sleep(0.25)
    now = size()
    if now != last:
        last, changed = now, time.monotonic()
PYEOF
for n in "${NSS[@]}"; do
    # when the table was listed, on the capture's clock (CLOCK_REALTIME): the judge ages the model's
    # entries to this moment before comparing timeouts
    ip netns exec "$PREFIX$n" nft -j list ruleset >"$WORK/ns/$n/counters-after.json"
    date +%s.%N >"$WORK/ns/$n/conntrack.time"
    for fam in ipv4 ipv6; do
        if [[ -f $SDIR/connlabel.conf ]]; then
            # labels= names come from /etc/xtables/connlabel.conf: the scenario's file is laid over /etc
            # in a private mount namespace for the listing only (the host's /etc is not touched)
            mkdir -p "$WORK/etc-up/xtables" "$WORK/etc-work"
            cp "$SDIR/connlabel.conf" "$WORK/etc-up/xtables/connlabel.conf"
            unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && shift 2 && exec "$@"' sh \
                "$WORK/etc-up" "$WORK/etc-work" ip netns exec "$PREFIX$n" conntrack -L -f $fam -o id,labels 2>/dev/null || true
        else
            ip netns exec "$PREFIX$n" conntrack -L -f $fam -o id 2>/dev/null || true
        fi
    done >"$WORK/ns/$n/conntrack.txt"
    # expectations the conntrack helpers made and no connection used yet (conntrack -L expect lists
    # one family, IPv4 unless told)
    for fam in ipv4 ipv6; do
        ip netns exec "$PREFIX$n" conntrack -L expect -f $fam 2>/dev/null || true
    done >"$WORK/ns/$n/expect.txt"
    # the namespace's TCP and UDP sockets (ss -tanH, ss -uanH) and when: the judge compares the
    # model's socket table (Get-PktFlowSocket) aged to that moment
    date +%s.%N >"$WORK/ns/$n/ss.time"
    ip netns exec "$PREFIX$n" ss -tanH >"$WORK/ns/$n/ss-tcp.txt" 2>/dev/null || true
    ip netns exec "$PREFIX$n" ss -uanH >"$WORK/ns/$n/ss-udp.txt" 2>/dev/null || true
done
# the drop watch must still run (a probe that failed to attach ends it), and its programs count the
# events they missed: the kernel skips a tracepoint program that fires while another BPF program runs
# on that CPU (an interrupt in the middle of one; softirqs run on its exit), so a packet can have no
# kfree_skb event although the kernel freed it -- such a packet is Unknown, not judged
BT=$(cat "/proc/$BTWATCH/task/$BTWATCH/children" 2>/dev/null | awk '{print $1}')
[[ -n $BT && -d /proc/$BT ]] || { cat "$WORK/bpftrace.err" >&2; log "bpftrace stopped before the end"; exit 1; }
cat /proc/"$BT"/fdinfo/* 2>/dev/null | awk '$1 == "recursion_misses:" {s += $2} END {print s + 0}' >"$WORK/drops.missed"
for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
# the emulated VM is slow to stop them: give them PFREC_SLOW times as long
for pid in "${PIDS[@]}"; do
    timeout $((10 * SLOW)) tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
done
PIDS=()
# the names of the drop reasons' numbers, which differ between kernels: analyze.py may run elsewhere
cp /sys/kernel/tracing/events/skb/kfree_skb/format "$WORK/kfree_skb.format" 2>/dev/null || true
# a capture that lost packets (its ring buffer overflowed) cannot be used
[[ $WIRE_DEV != any ]] || cp "$WORK/ns/$WIRE_NS/any.pcap" "$WORK/wire.pcap"
if grep -H "dropped by kernel" "$WORK"/ns/*/any.err "$WORK"/wire.err 2>/dev/null | grep -v ":0 packets dropped"; then
    log "tcpdump lost packets; record again"
    exit 1
fi

# 5. kernel.json
cat >"$WORK/meta.json" <<EOF
{"scenario": "$SC", "prefix": "$PREFIX", "wire": {"ns": "$WIRE_NS", "dev": "$WIRE_DEV"},
 "namespaces": [$(printf '"%s",' "${NSS[@]}" | sed 's/,$//')], "clock": $(cat "$WORK/clock"),
 "kernel": "$(uname -r)", "nft": "$(nft --version | awk '{print $2}')"}
EOF
cp "$WORK/wire.pcap" "$OUT/wire.pcap"
"$PY" "$HERE/lib/analyze.py" --work "$WORK" --scenario-dir "$SDIR" --out "$OUT/kernel.json"
log "wrote $OUT/wire.pcap and $OUT/kernel.json"
"$PY" "$HERE/lib/readme_line.py" "$SDIR" "$OUT/kernel.json"
