#!/bin/sh
# Rebuilds lab/ (needs root): builds lab.sh for real in the namespaces pfsnap-r and pfsnap-c, waits
# until no address is tentative (DAD), runs scripts/pktflow-collect.sh -H -p pfsnap- on them and
# deletes the namespaces again, whatever happens.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)

leftover=$(ip netns list | sed -n 's/^\(pfsnap-[^ ]*\).*/\1/p')
if [ -n "$leftover" ]; then
    echo "make.sh: namespaces $leftover exist; delete them first (ip netns del NAME)" >&2
    exit 1
fi
cleanup() {
    ip netns del pfsnap-r 2>/dev/null || true
    ip netns del pfsnap-c 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sh -e "$here/lab.sh"

i=0
while ip -n pfsnap-r addr | grep -q tentative || ip -n pfsnap-c addr | grep -q tentative; do
    i=$((i + 1))
    [ "$i" -le 50 ] || { echo "make.sh: DAD did not finish in 10 s" >&2; exit 1; }
    sleep 0.2
done

rm -rf "$here/lab"
sh "$repo/scripts/pktflow-collect.sh" -H -p pfsnap- -o "$here/lab"
