"""partners' message map: every event it consumes, and the use case that handles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EVENT_HANDLERS: dict[str, Callable[..., Any]] = {}
