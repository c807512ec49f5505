#!/bin/bash
# Records every scenario of tests/scenarios (or the ones named) one after the other and prints the
# lines for tests/scenarios/README.md.   sudo tests/Kernel/record-all.sh [SCENARIO...]
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC=$(cd "$HERE/../scenarios" && pwd)
if [[ $# -eq 0 ]]; then
    mapfile -t names < <(find "$SC" -mindepth 2 -maxdepth 2 -name scenario.json -printf '%h\n' | xargs -n1 basename | sort)
else
    names=("$@")
fi
rc=0
lines=()
for n in "${names[@]}"; do
    if out=$("$HERE/record.sh" "$n" 2>"/tmp/pfrec-record-$n.log"); then
        lines+=("$out")
    else
        echo "$n: FAILED (log: /tmp/pfrec-record-$n.log)" >&2
        tail -5 "/tmp/pfrec-record-$n.log" >&2
        rc=1
    fi
done
printf '%s\n' "${lines[@]}"
exit $rc
