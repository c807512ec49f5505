"""forwarding-disabled: exactly the frames of ../forwarding/frames.py (same topology, same MACs)."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "forwarding_frames", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "forwarding", "frames.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)

HOST_MACS = _mod.HOST_MACS
PORTS = _mod.PORTS
# the remarks in ../forwarding/frames.py describe what a forwarding host does: not carried over
FRAMES = [{k: v for k, v in fr.items() if k != "remark"} for fr in _mod.FRAMES]
