"""The lib's no-root checks: run(cases) prints each failing (name, got, want) and exits non-zero if any failed."""
import sys


def run(cases):
    fails = [(name, got) for name, got, want in cases if got != want]
    for name, got in fails:
        print(f"FAIL {name}: {got}")
    print(f"{len(cases) - len(fails)} passed, {len(fails)} failed")
    sys.exit(1 if fails else 0)
