"""Every service's message map in one place: who consumes which event, and with what.

The generated AsyncAPI document takes its `receive` operations from here, and the
contract test checks that every event type has a consumer, or a written reason why
not (docs/decisions/0012-every-event-reaches-someone.md).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from contracts.registry import Consumer
from services.common.messaging import consumer_method_name

# The services that consume events; each has `services.<name>.messages.EVENT_HANDLERS`.
CONSUMING_SERVICES = ("intake", "coordination", "housing", "notifications", "partners")


def message_map(service: str) -> dict[str, Callable[..., Any]]:
    module = importlib.import_module(f"services.{service}.messages")
    return dict(module.EVENT_HANDLERS)


def consumers() -> list[Consumer]:
    found = []
    for service in CONSUMING_SERVICES:
        for event_type, handler in message_map(service).items():
            found.append(Consumer(
                service=service, event_type=event_type,
                method=consumer_method_name(event_type),
                handler=f"{handler.__module__}.{handler.__qualname__}",
            ))
    return found
