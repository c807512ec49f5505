#!/usr/bin/python3
"""Print the tests/scenarios/README.md table line of a recorded scenario:
readme_line.py SCENARIO_DIR [KERNEL_JSON]   (KERNEL_JSON defaults to SCENARIO_DIR/kernel.json)"""
import json
import os
import sys

sdir = sys.argv[1]
kj = sys.argv[2] if len(sys.argv) > 2 else os.path.join(sdir, "kernel.json")
name = os.path.basename(os.path.normpath(sdir))
scen = json.load(open(os.path.join(sdir, "scenario.json")))
st = json.load(open(kj))["stats"]
att = "" if st["attributed"] == st["frames"] else f" ({st['attributed']} attributed)"
print(f"| [{name}]({name}/) | {scen['wire']} | {st['frames']}{att} | {scen.get('description', '')} |")
