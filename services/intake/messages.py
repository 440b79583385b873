"""intake's message map: every event it consumes, and the use case that handles it.

intake owns the citizen and Fronten's courses; today it consumes no other service's
events (docs/decisions/0012-every-event-reaches-someone.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EVENT_HANDLERS: dict[str, Callable[..., Any]] = {}
