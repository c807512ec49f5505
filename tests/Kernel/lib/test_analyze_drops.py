#!/usr/bin/python3
"""Checks of how analyze.py ties a kfree_skb to a packet (no root needed): python3 test_analyze_drops.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402

# lb-ipip-fou-decap frame 17: GUE to 6080 naming protocol 47; the IP_NOPROTO drop's outer header has
# tot_len 0x2c (56 less the UDP and GUE headers) and the unchanged checksum.
wire = bytes.fromhex("45000038232d000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
dropped = bytes.fromhex("4500002c232d000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
other = bytes.fromhex("4500002c232e000040114384" "0a0100020a010001" "9c4e17c000243764002f0000") + bytes(24)
fails = 0
for name, got, want in [
    ("a drop after fou/gue shrank tot_len matches its packet", analyze.drop_matches({"nh": dropped}, wire, b""), True),
    ("another IP id does not", analyze.drop_matches({"nh": other}, wire, b""), False),
    ("identical headers match", analyze.drop_matches({"nh": wire}, wire, b""), True),
]:
    if got != want:
        print(f"FAIL {name}: {got}")
        fails += 1
print(f"{3 - fails} passed, {fails} failed")
sys.exit(1 if fails else 0)
