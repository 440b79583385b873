"""The gateway's pure helpers: no CPR number in a URL, without false alarms on ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.api import looks_like_cpr


@pytest.mark.parametrize("text", [
    "/api/citizens/010190-1234", "0101901234", "q=010190-1234&x=1", "/x/0101901234/y",
])
def test_cpr_shaped_parts_are_caught(text):
    assert looks_like_cpr(text)


@pytest.mark.parametrize("text", [
    "/api/housing/cases/7e406292-3897-4b6a-9d90-2719193e733a",  # once a false alarm
    "/api/pathways/b7e1c2d3-4f5a-4b6c-8d7e-9f0a1b2c3d4e/timeline",
    "period_start=2018-04-01", "/api/courses/x12345678901", "limit=100",
])
def test_ids_and_dates_are_not_mistaken_for_cpr(text):
    assert not looks_like_cpr(text)


@given(st.uuids(), st.booleans())
def test_no_uuid_is_ever_mistaken_for_a_cpr_number(uuid_value, hyphens):
    text = str(uuid_value) if hyphens else uuid_value.hex
    assert not looks_like_cpr(f"/api/housing/cases/{text}/contact")
