"""Prometheus metrics for every service, served as `/metrics` on its health port.

Counted as things happen (one registry per process, every series labelled with its
`service`, so `samspil run` serves them all from each port):

- `samspil_relay_published_total`, `samspil_relay_confirm_seconds`: the outbox relay's
  confirmed publishes and the broker's confirm latency;
- `samspil_inbox_handled_total`, `samspil_inbox_duplicates_total`,
  `samspil_inbox_failures_total` per consumer;
- `samspil_unroutable_total` per event type: publishes no queue took;
- `samspil_rpc_seconds` per RPC method and outcome;
- `samspil_http_responses_total` per status, at the gateway.

Read when scraped (a `ServiceCollector` per running service):

- `samspil_outbox_pending`, `samspil_outbox_oldest_pending_seconds`;
- `samspil_deadlines_due`, `samspil_sweep_lag_seconds` (how late the oldest due
  deadline is);
- `samspil_dead_letters` (the depth of the service's dead-letter queue).

Services add their own scrape-time gauges with `register` (notifications: deliveries
by status, silent subscriptions).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REGISTRY = CollectorRegistry()

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RELAY_PUBLISHED = Counter("samspil_relay_published", "Events the outbox relay published "
                          "and the broker confirmed.", ["service"], registry=REGISTRY)
RELAY_CONFIRM = Histogram("samspil_relay_confirm_seconds", "From publishing an event to "
                          "the broker's confirm.", ["service"], buckets=_LATENCY,
                          registry=REGISTRY)
INBOX_HANDLED = Counter("samspil_inbox_handled", "Events a consumer handled and committed.",
                        ["service", "consumer"], registry=REGISTRY)
INBOX_DUPLICATES = Counter("samspil_inbox_duplicates", "Deliveries the inbox recognised "
                           "as already handled.", ["service", "consumer"], registry=REGISTRY)
INBOX_FAILURES = Counter("samspil_inbox_failures", "Handler failures (each retried or "
                         "dead-lettered).", ["service", "consumer"], registry=REGISTRY)
RPC_SECONDS = Histogram("samspil_rpc_seconds", "RPC requests served, by method and outcome "
                        "(ok or the error's type).", ["service", "method", "outcome"],
                        buckets=_LATENCY, registry=REGISTRY)
UNROUTABLE = Counter("samspil_unroutable", "Publishes no queue took, by event type (parked "
                     "in samspil.unrouted after a while).", ["service", "type"],
                     registry=REGISTRY)
HTTP_RESPONSES = Counter("samspil_http_responses", "The gateway's HTTP answers by status.",
                         ["status"], registry=REGISTRY)


def exposition() -> bytes:
    """The /metrics page."""
    return generate_latest(REGISTRY)


#: One gauge family read at scrape time: (name, help, {((label, value), ...): number}).
Family = tuple[str, str, dict[tuple[tuple[str, str], ...], float]]


class Gauges:
    """A scrape-time collector from a function giving gauge families."""

    def __init__(self, read: Callable[[], Iterable[Family]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        try:
            families = list(self.read())
        except Exception as exc:  # the database or broker is down: /ready says so
            log.warning("metrics: %s: %s", type(exc).__name__, exc)
            return
        for name, help_text, values in families:
            labels = [k for k, _ in next(iter(values), ())] if values else []
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for key, value in values.items():
                family.add_metric([v for _, v in key], value)
            yield family


def register(collector: Any) -> Callable[[], None]:
    """Add a scrape-time collector; returns how to remove it (at the service's stop)."""
    REGISTRY.register(collector)
    return lambda: REGISTRY.unregister(collector)


def kit_gauges(service: str, engine: Engine | None, metadata: Any,
               clock: Callable[[], dt.datetime],
               dead_letter_depth: Callable[[], int] | None) -> Collector:
    """The kit's scrape-time gauges for one service; `clock` is the service's own (the
    deadlines run on it), the outbox's age is wall time."""

    def read() -> Iterator[Family]:
        key = (("service", service),)
        now, service_now = dt.datetime.now(dt.UTC), clock()
        if engine is not None and metadata is not None:
            outbox, deadlines = metadata.tables["outbox"], metadata.tables["deadlines"]
            with engine.connect() as conn:
                pending, oldest = conn.execute(
                    select(func.count(), func.min(outbox.c.created_at))
                    .where(outbox.c.sent_at.is_(None))).one()
                due, first_due = conn.execute(
                    select(func.count(), func.min(deadlines.c.due_at))
                    .where(deadlines.c.fired_at.is_(None), deadlines.c.cancelled_at.is_(None),
                           deadlines.c.due_at <= service_now)).one()
            yield ("samspil_outbox_pending", "Events written but not yet published.",
                   {key: float(pending)})
            yield ("samspil_outbox_oldest_pending_seconds", "Age of the oldest unpublished "
                   "event.", {key: _age(now, oldest)})
            yield ("samspil_deadlines_due", "Deadlines due and not yet fired.",
                   {key: float(due)})
            yield ("samspil_sweep_lag_seconds", "How late the oldest due deadline is.",
                   {key: _age(service_now, first_due)})
        if dead_letter_depth is not None:
            yield ("samspil_dead_letters", "Messages in the service's dead-letter queue.",
                   {key: float(dead_letter_depth())})

    return Gauges(read)


def _age(now: dt.datetime, then: dt.datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.UTC)
    return max((now - then).total_seconds(), 0.0)
