"""Every event reaches someone: each registered event type has a consumer in some
service's message map, or a written reason in ADR 0012 why no one consumes it; and
the AsyncAPI document has a `receive` operation for every consumer."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from contracts import generate, registry
from contracts.unconsumed import NO_CONSUMER
from services import catalogue

ADR = Path(__file__).resolve().parents[2] / "docs" / "decisions" / \
    "0012-every-event-reaches-someone.md"


def unconsumed_with_reason() -> dict[str, str]:
    """The rows of the ADR's "Events no service consumes" table."""
    text = ADR.read_text(encoding="utf-8")
    section = text.split("## Events no service consumes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \| (.+?) \|$", section, re.M)
    return {event_type: reason.strip() for event_type, reason in rows}


def test_every_event_type_has_a_consumer_or_a_written_reason() -> None:
    consumed = {c.event_type for c in catalogue.consumers()}
    reasons = unconsumed_with_reason()
    published = {c.type for c in registry.events()}
    lonely = sorted(published - consumed - set(reasons))
    assert lonely == [], f"no consumer and no reason in {ADR.name}: {lonely}"
    stale = sorted(set(reasons) & consumed)
    assert stale == [], f"{ADR.name} says no one consumes these, but someone does: {stale}"
    unknown = sorted(set(reasons) - published)
    assert unknown == [], f"{ADR.name} lists event types no contract registers: {unknown}"
    assert all(len(reason) > 20 for reason in reasons.values())
    # The relay's copy (it treats these as delivered when no queue takes them).
    assert set(NO_CONSUMER) == set(reasons)


def test_every_consumer_is_registered_for_a_published_type() -> None:
    published = {c.type for c in registry.events()}
    strays = sorted({c.event_type for c in catalogue.consumers()} - published)
    assert strays == []


def test_asyncapi_has_a_receive_operation_for_every_consumer() -> None:
    doc = yaml.safe_load(generate.ASYNCAPI_PATH.read_text())
    receives = {
        (op["channel"]["$ref"].rsplit("/", 1)[-1], op["x-samspil-queue"])
        for op in doc["operations"].values() if op["action"] == "receive"
    }
    expected = {(c.event_type, c.queue) for c in catalogue.consumers()}
    assert receives == expected
