"""Notifications' own metrics, beside the kit's (services.common.metrics) on its health
port's `/metrics`, read from the database when scraped:

    # HELP samspil_silent_subscriptions Partner subscriptions that can deliver nothing.
    # TYPE samspil_silent_subscriptions gauge
    samspil_silent_subscriptions 2
    # HELP samspil_deliveries Deliveries in the ledger by status.
    # TYPE samspil_deliveries gauge
    samspil_deliveries{status="sent"} 120.0

The list behind the first number is the operators' worklist
`/api/worklists/operators/silent-subscriptions` (services.notifications.silent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select

from services.common.db import Store
from services.common.health import HealthServer
from services.common.metrics import Family, Gauges
from services.notifications import operators
from services.notifications.models import DeliveryRow

SILENT = "samspil_silent_subscriptions"
DELIVERIES = "samspil_deliveries"


def notification_gauges(silent_count: Callable[[], int],
                        by_status: Callable[[], dict[str, int]]) -> Gauges:
    def read() -> Iterator[Family]:
        yield (SILENT, "Partner subscriptions that can deliver nothing.",
               {(): float(silent_count())})
        yield (DELIVERIES, "Deliveries in the ledger by status.",
               {(("status", status),): float(n) for status, n in sorted(by_status().items())})

    return Gauges(read)


def deliveries_by_status(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {str(status): int(n) for status, n in session.execute(
            select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all()}


class HealthAndMetrics(HealthServer):
    """The kit's health server, with notifications' gauges added to /metrics."""

    def collectors(self) -> list[Any]:
        database = self._database()
        if database is None:
            return super().collectors()
        store = database.store
        return [*super().collectors(), notification_gauges(
            lambda: operators.silent_count(store), lambda: deliveries_by_status(store))]
