"""Fault points: named places where a reliability test may kill the process.

Off unless the environment variable SAMSPIL_FAULTS is set, e.g.
``SAMSPIL_FAULTS="inbox.after_commit:0.3,relay.after_publish:0.2"``: at each named
point the process SIGKILLs itself with that probability. Production never sets it;
the points sit exactly in the windows that the delivery guarantees must survive.
"""

from __future__ import annotations

import os
import random
import signal

_SPEC = os.environ.get("SAMSPIL_FAULTS", "")
_POINTS: dict[str, float] = {}
for _item in filter(None, (p.strip() for p in _SPEC.split(","))):
    _name, _, _prob = _item.partition(":")
    _POINTS[_name] = float(_prob or 1.0)
_rng = random.Random(os.environ.get("SAMSPIL_FAULT_SEED", str(os.getpid())))


def fault_point(name: str) -> None:
    """Kill this process here (SIGKILL: no clean-up, like a power cut) if armed."""
    probability = _POINTS.get(name)
    if probability and _rng.random() < probability:
        os.kill(os.getpid(), signal.SIGKILL)
