"""The event types no Samspil service consumes, on purpose: ADR 0012's table "Events no
service consumes" gives each one's reason, and tests/contracts/test_consumers.py keeps
this set equal to that table and to the services' message maps.

The outbox relay treats such an event as delivered when the broker finds no queue for it
(a partner's subscription may still take it; nothing inside Samspil waits for it),
instead of retrying it for about 17 minutes and parking it in `samspil.unrouted`."""

from __future__ import annotations

NO_CONSUMER: frozenset[str] = frozenset({
    "coordination.meeting_held",
    "coordination.plan_agreed",
})
