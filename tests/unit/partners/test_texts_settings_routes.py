"""What partners and staff read (Danish beside every code, no citizen text in an ask),
the service's settings, its HTTP routes and its contracts."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from marshmallow import ValidationError

from contracts import registry
from contracts.partners import (
    AnswerHandoffArgs,
    HandoffDetailsSchema,
    ListPartnersArgs,
    QueueAnswerMessage,
    RegisterPartnerArgs,
)
from contracts.vocabulary import HandoffKind, HandoffState, PartnerCategory
from services.common.pii import contains_cpr
from services.gateway.auth import Role
from services.gateway.routes.partners import PARTNER_HANDOFF_VIEW, ROUTES
from services.partners import danish, lifecycle
from services.partners.handoffs import hold_until_requested
from services.partners.settings import DEFAULT_TEAMS, settings_from_config

BY_RPC = {r.rpc: r for r in ROUTES}
ALL_DETAILS = {"due_on": "2025-04-09", "planned_end": "2025-06-09", "referred_on":
               "2025-03-03", "tenancy_ref": "T-1-1", "hold_until_requested": "2025-04-16",
               "case_ref": str(uuid.uuid4())}


# ------------------------------------------------------------------------- Danish


def test_every_code_has_danish_words():
    assert set(danish.KIND_TEXT) == set(HandoffKind)
    assert set(danish.STATE_TEXT) == set(HandoffState)
    assert set(danish.CATEGORY_TEXT) == set(PartnerCategory)
    for outcomes in lifecycle.OUTCOMES.values():
        assert set(outcomes) <= set(danish.OUTCOME_TEXT)


@pytest.mark.parametrize("kind", list(HandoffKind))
def test_each_ask_names_the_contact_and_only_dates_and_references(kind):
    text = danish.ask(kind, ALL_DETAILS, "Anne Andersen")
    assert "Anne Andersen" in text
    assert not contains_cpr(text)
    assert not re.search(r"[a-z]+_[a-z]+", text)  # no English code reaches a person
    if kind.value.startswith("bridging"):
        assert "9. april 2025" in text and "9. juni 2025" in text
    if kind is HandoffKind.HOLD_TERMINATION:
        assert "lejemål T-1-1 til og med 16. april 2025" in text


def test_status_titles_say_who_answered_and_how():
    assert danish.status_title(HandoffKind.BRIDGING_EDUCATION, HandoffState.DECLINED,
                               "UU Ballerup", by_partner=True) == \
        "Brobygning til uddannelse: afvist af UU Ballerup"
    assert danish.status_title(HandoffKind.HOLD_TERMINATION, HandoffState.ACCEPTED,
                               "Ballerup Boligforening", by_partner=True,
                               hold_until=dt.date(2025, 4, 16)).endswith(
        "accepteret af Ballerup Boligforening, venter med ophævelse til og med 16. april 2025")
    assert danish.status_title(HandoffKind.REFERRAL_85, HandoffState.COMPLETED,
                               "Social Vejledning", by_partner=True, outcome="granted") == (
        "Henvisning til vurdering efter servicelovens § 85: afsluttet af Social Vejledning "
        "(støtte efter § 85 er bevilget)")
    assert danish.status_title(HandoffKind.BRIDGING_HEALTH, HandoffState.CANCELLED, "X",
                               by_partner=False).endswith("annulleret af kommunen")


def test_history_lines_are_danish():
    assert danish.history_text("state", "requested", "accepted") == \
        "Ændret fra sendt til accepteret"
    assert danish.history_text("created", None, "requested") == "Overdragelsen er sendt"


# ---------------------------------------------------------------------- settings


def test_settings_default_to_five_working_days_and_the_team_mailboxes():
    settings = settings_from_config({})
    assert settings.answer_working_days == 5
    assert settings.team("fronten") == DEFAULT_TEAMS["fronten"]
    changed = settings_from_config({
        "HANDOFF_ANSWER_WORKING_DAYS": "3",
        "MAILBOXES": {"housing": "Bolig@Balk.dk", "review_panel": "udvalg@balk.dk"},
        "HANDOFF_TEAMS": {"housing": {"phone": "44 77 00 00"}},
    })
    assert changed.answer_working_days == 3
    assert changed.team("housing").email == "bolig@balk.dk"
    assert changed.team("housing").phone == "44 77 00 00"


@pytest.mark.parametrize(("config", "names"), [
    ({"HANDOFF_ANSWER_WORKING_DAYS": 0}, "HANDOFF_ANSWER_WORKING_DAYS"),
    ({"HANDOFF_ANSWER_WORKING_DAYS": "fem"}, "HANDOFF_ANSWER_WORKING_DAYS"),
    ({"HANDOFF_TEAMS": {"kantine": {"name": "Kantinen"}}}, "kantine"),
    ({"HANDOFF_TEAMS": {"fronten": {"fax": "1"}}}, "HANDOFF_TEAMS.fronten"),
    ({"MAILBOXES": {"fronten": "not an address"}}, "fronten"),
])
def test_bad_settings_are_refused_at_start_naming_the_key(config, names):
    with pytest.raises(ValueError, match=re.escape(names)):
        settings_from_config(config)


# ----------------------------------------------------------------- the hold asked


def test_the_hold_asked_is_the_day_before_the_deadline_midnight_or_the_events_own():
    # housing stores "until 16 April" as the following Copenhagen midnight.
    deadline = dt.datetime(2025, 4, 16, 22, 0, tzinfo=dt.UTC)
    assert hold_until_requested({"next_deadline": deadline}) == dt.date(2025, 4, 16)
    assert hold_until_requested({"next_deadline": deadline,
                                 "hold_until": dt.date(2025, 4, 20)}) == dt.date(2025, 4, 20)
    assert hold_until_requested({"next_deadline": None}) is None


# ------------------------------------------------------------------------- routes


def test_every_partners_rpc_but_the_merged_access_report_has_a_route():
    rpcs = {c.method for c in registry.rpcs() if c.service == "partners"}
    assert rpcs - set(BY_RPC) == {"access_report"}  # the gateway merges every service's


def test_partners_answer_and_list_their_own_and_never_read_staff_lists():
    answer = BY_RPC["answer_handoff"]
    assert (answer.method, answer.path) == ("POST", "/api/handoffs/<handoff_id>/answers")
    assert Role.PARTNER in answer.roles and Role.SOCIAL_VEJLEDNING in answer.roles
    assert answer.owner == "partner_id" and answer.uuid_params == ("handoff_id",)
    mine = BY_RPC["partner_handoffs"]
    assert (mine.path, mine.roles) == ("/api/partner/handoffs", {Role.PARTNER})
    assert mine.query == ("cursor", "limit", "state")
    for rpc in ("handoffs_awaiting_answer", "handoffs_of_subject", "list_partners",
                "get_partner", "register_partner"):
        assert Role.PARTNER not in BY_RPC[rpc].roles
    assert BY_RPC["register_partner"].roles == {Role.OPERATOR}
    assert BY_RPC["get_partner"].uuid_params == ()  # partner ids are words
    assert "citizen_ref" not in PARTNER_HANDOFF_VIEW and "history" not in PARTNER_HANDOFF_VIEW


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.endpoint)
def test_query_parameters_are_fields_of_the_rpc(route):
    assert set(route.query) <= set(registry.rpc_contract("partners", route.rpc).args().fields)


# ---------------------------------------------------------------------- contracts


def test_rpc_examples_load():
    for contract in registry.rpcs():
        if contract.service == "partners":
            contract.args().load(contract.example)


def test_partner_ids_answers_and_details_are_checked_by_field():
    with pytest.raises(ValidationError) as err:
        RegisterPartnerArgs().load({"actor": "staff:ole", "partner_id": "Jobcenter Ballerup",
                                    "name": "", "category": "bank", "accepts": ["x"],
                                    "contact_name": "A", "contact_email": "nope"})
    assert set(err.value.messages) == {"partner_id", "name", "category", "accepts",
                                       "contact_email"}
    with pytest.raises(ValidationError) as err:
        AnswerHandoffArgs().load({"actor": "partner:x", "handoff_id": "1", "state": "done"})
    assert set(err.value.messages) == {"handoff_id", "state"}
    with pytest.raises(ValidationError) as err:
        QueueAnswerMessage().load({"state": "accepted", "cpr_note": "x"})
    assert set(err.value.messages) == {"handoff_id", "cpr_note"}
    with pytest.raises(ValidationError):
        HandoffDetailsSchema().load({"citizen_name": "Vincent"})
    assert ListPartnersArgs().load({"actor": "staff:a", "active": "true"})["active"] is True
