#!/bin/sh
# Rebuilds lab/ (needs root): builds lab.sh for real in the namespaces pfsnap-r and pfsnap-c, waits
# until no address is tentative (DAD), runs scripts/pktflow-collect.sh -H -p pfsnap- on them and
# deletes the namespaces (and what lab.sh left running in them) again, whatever happens.
# Other snapshot fixtures reuse it: make.sh LAB.sh OUTDIR PREFIX (their namespaces all start with PREFIX).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
lab=${1:-$here/lab.sh}
target=${2:-$here/lab}
prefix=${3:-pfsnap-}

ours() { ip netns list | sed -n "s/^\($prefix[^ ]*\).*/\1/p"; }
leftover=$(ours)
if [ -n "$leftover" ]; then
    echo "make.sh: namespaces $leftover exist; delete them first (ip netns del NAME)" >&2
    exit 1
fi
cleanup() {
    # the servers lab.sh started in them (socat &), by pid, then the namespaces
    for ns in $(ours); do for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done; done
    for ns in $(ours); do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sh -e "$lab"

i=0
while for ns in $(ours); do ip -n "$ns" addr; done | grep -q tentative; do
    i=$((i + 1))
    [ "$i" -le 50 ] || { echo "make.sh: DAD did not finish in 10 s" >&2; exit 1; }
    sleep 0.2
done

rm -rf "$target"
sh "$repo/scripts/pktflow-collect.sh" -H -p "$prefix" -o "$target"
