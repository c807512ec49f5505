#!/bin/bash
# Records each scenario twice and checks that both runs give the same verdicts (lib/compare.py).
#   sudo tests/Kernel/check-twice.sh [--commit] SCENARIO...
# Without --commit both runs go to temporary directories and the scenario's files are not touched;
# with --commit the first run is written into tests/scenarios/SCENARIO/ (as record.sh does) and
# kept only if the second run agrees with it.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMMIT=0
if [[ ${1:-} == --commit ]]; then COMMIT=1; shift; fi
rc=0
for sc in "$@"; do
    tmp=$(mktemp -d "/tmp/pfrec-check-$sc.XXXXXX")
    if "$HERE/record.sh" --out "$tmp/a" "$sc" >"$tmp/a.log" 2>&1 && "$HERE/record.sh" --out "$tmp/b" "$sc" >"$tmp/b.log" 2>&1; then
        if /usr/bin/python3 "$HERE/lib/compare.py" "$tmp/a/kernel.json" "$tmp/b/kernel.json"; then
            if [[ $COMMIT == 1 ]]; then
                cp "$tmp/a/kernel.json" "$tmp/a/wire.pcap" "$HERE/../scenarios/$sc/"
                grep '^| ' "$tmp/a.log" || true
            fi
        else
            rc=1
        fi
    else
        # tail -N with several files is GNU's obsolete form and refused: -n N; the logs are kept to read
        echo "$sc: recording failed (logs kept in $tmp)"; tail -n 5 "$tmp"/*.log; rc=1
        continue
    fi
    rm -rf "$tmp"
done
exit $rc
