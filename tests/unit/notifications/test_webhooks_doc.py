"""docs/webhooks.md describes every message a partner can receive, in a form a partner's
developer can implement from: each message has an example that its allow-list schema
accepts and that is what Samspil would send for the contract's example, and every field
of every message is named on the page."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest

from contracts import registry
from contracts.notifications import PARTNER_MESSAGES
from services.notifications import content, handoffs

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
MESSAGE_ID = uuid.UUID("3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61")


def examples() -> dict[str, dict]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    found = [json.loads(block) for block in blocks]
    return {body["type"]: body for body in found}


def test_every_partner_message_has_an_example_its_schema_accepts() -> None:
    found = examples()

    assert set(found) == set(PARTNER_MESSAGES)
    for type_, body in found.items():
        assert PARTNER_MESSAGES[type_]().validate(body) == {}, type_
        assert set(body) == set(PARTNER_MESSAGES[type_]().fields), type_


@pytest.mark.parametrize("type_", sorted(PARTNER_MESSAGES))
def test_the_example_is_what_samspil_sends(type_: str) -> None:
    shown = examples()[type_]
    changes = {}
    if type_ == handoffs.UPDATED:
        changes = {"state": shown["state"], "previous_state": shown["previous_state"],
                   "reason": None, "title": shown["title"]}
    example = dict(registry.contract(type_).example) | changes
    native = registry.contract(type_).schema().load(example)
    wire = registry.build(type_, native, producer=type_.split(".")[0], correlation_id="c",
                          occurred_at=NOW, message_id=MESSAGE_ID)

    sent = json.loads(content.partner_body(
        wire, content.Context(partner_name="Jobcenter Ballerup")))

    assert sent == shown


def test_every_field_of_every_message_is_named_on_the_page() -> None:
    page = DOC.read_text(encoding="utf-8")
    for type_, schema in PARTNER_MESSAGES.items():
        assert f"`{type_}`" in page
        for name in schema().fields:
            assert f"`{name}`" in page, (type_, name)
    for state, text in handoffs.STATE_TEXTS.items():
        assert f"| `{state.value}` | {text} |" in page
    for outcome, text in handoffs.OUTCOME_TEXTS.items():
        assert f"| `{outcome}` | {text} |" in page
    assert "docs/partners.md" in page or "(partners.md)" in page
