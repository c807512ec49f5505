#!/usr/bin/python3
"""Print the tests/scenarios/README.md table line of a recorded scenario: readme_line.py SCENARIO_DIR KERNEL_JSON"""
import json
import os
import sys

sdir, kj = sys.argv[1], sys.argv[2]
name = os.path.basename(os.path.normpath(sdir))
scen = json.load(open(os.path.join(sdir, "scenario.json")))
doc = json.load(open(kj))
fates = {}
for f in doc["frames"]:
    if f.get("attributed"):
        fates[f["fate"]] = fates.get(f["fate"], 0) + 1
fs = ", ".join(f"{k} {v}" for k, v in sorted(fates.items()))
print(f"| [{name}]({name}/) | {scen['wire']} | {doc['stats']['frames']} ({doc['stats']['attributed']} attributed) | "
      f"{scen.get('description', '')} | {fs} |")
