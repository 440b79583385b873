"""Migration 0004 on a database with data from before it, on SQLite and PostgreSQL:
purposes become codes of the consent vocabulary where they map (rules, legal bases, the
consent projection), nothing is dropped, staff rules without a consent purpose keep
none, the § 85 referral's notice gives way to its hand-off, the ledger's rows keep
their identity with their subscription, and the migration goes down again."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text

from services.common.db import make_engine
from services.common.migrate import alembic_config, upgrade

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)


def rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def run(url: str, *statements: tuple[str, dict]) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for sql, values in statements:
                conn.execute(text(sql), values)
    finally:
        engine.dispose()


def test_purposes_become_codes_and_nothing_is_lost(db_url: str) -> None:
    upgrade("notifications", db_url, "0003")
    run(db_url,
        ("insert into routing_rules (event_type, recipient_kind, channel, information_kind, "
         "purpose, created_at, created_by) values ('housing.partner_status', "
         "'housing_association', 'email', 'housing_case_status', 'Vores egen formulering', "
         ":at, 'staff:ops')", {"at": AT}),
        ("insert into legal_bases (recipient, information_kind, purpose, reference, "
         "created_at, created_by) values ('kab', 'housing_case_status', "
         "'forebyggelse af udsættelse', 'retssikkerhedsloven § 5 a', :at, 'staff:jurist'), "
         "('kab', 'contact_status', 'noget andet', 'x § 1', :at, 'staff:jurist')",
         {"at": AT}),
        ("insert into consents (consent_id, citizen_ref, recipient, information_kinds, "
         "purpose, given_at) values ('c1', 'r1', 'jobcenter', '[\"bridging_status\"]', "
         "'Brobygning til beskæftigelse', :at), ('c2', 'r1', 'x', '[]', 'fri tekst', :at)",
         {"at": AT}),
        ("insert into subscriptions (partner_id, partner_kind, channel, event_types, url, "
         "secret, active, created_at, created_by) values ('kab', 'housing', 'webhook', "
         "'[\"housing.partner_status\"]', 'https://kab.example', 's', :yes, :at, 'x')",
         {"at": AT, "yes": True}),
        ("insert into received_events (message_id, type, schema_version, correlation_id, "
         "envelope, received_at) values ('m1', 'housing.partner_status', 1, 'c', '{}', :at)",
         {"at": AT}),
        ("insert into deliveries (message_id, event_type, correlation_id, recipient_kind, "
         "recipient, channel, subscription_id, information_kind, purpose, status, attempts, "
         "created_at) values ('m1', 'housing.partner_status', 'c', 'housing_association', "
         "'partner:kab', 'webhook', 1, 'housing_case_status', 'forebyggelse af udsættelse', "
         "'sent', 1, :at)", {"at": AT}))

    upgrade("notifications", db_url)

    purposes = dict(rows(db_url, "select event_type || '/' || recipient_kind || '/' || "
                                 "channel, purpose from routing_rules"))
    assert purposes["housing.partner_status/housing_association/webhook"] == "keep_home"
    assert purposes["intake.bridging_due/jobcenter/webhook"] == "bridging_employment"
    assert purposes["coordination.meeting_scheduled/citizen/email"] == "pathway_team"
    # A staff rule's course purpose is no consent purpose: it needs none.
    assert purposes["intake.course_review_requested/review_panel/email"] is None
    # An operator's own words on a partner rule are kept, not dropped.
    assert purposes["housing.partner_status/housing_association/email"] == \
        "Vores egen formulering"
    assert "intake.referral_85_made/social_vejledning/email" not in purposes
    assert purposes["partners.handoff_escalated/team_members/email"] is None
    assert purposes["housing.case_deescalated/fronten/email"] == "keep_home"
    assert sorted(rows(db_url, "select purpose from legal_bases")) == [
        ("keep_home",), ("noget andet",)]
    assert sorted(rows(db_url, "select consent_id, purpose from consents")) == [
        ("c1", "bridging_employment"), ("c2", "fri tekst")]
    assert rows(db_url, "select subscription_key from deliveries") == [("1",)]

    command.downgrade(alembic_config("notifications", db_url), "0003")
    assert ("intake.referral_85_made", "social_vejledning") in rows(
        db_url, "select event_type, recipient_kind from routing_rules")
    upgrade("notifications", db_url)
