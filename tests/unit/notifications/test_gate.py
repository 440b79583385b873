"""The consent gate, routing rules and webhook URLs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.vocabulary import PartnerKind
from services.common.errors import DomainError
from services.notifications.gate import (
    HANDOFF_EVENTS,
    PARTNER_VISIBLE,
    ConsentGrant,
    Decision,
    DeliveryChannel,
    LegalBasis,
    Reason,
    RecipientKind,
    RoutingRule,
    decide,
    routing_rule,
    rules_for,
    validate_routing_rule,
    validate_subscription,
    validate_webhook_url,
)

CITIZEN = "0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80"
JOBCENTER = "jobcenter-ballerup"
ASSOCIATION = "boligforening:ballerup-ungdomsboliger"
GIVEN = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
WITHDRAWN = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
BETWEEN = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)


def grant(**changes: object) -> ConsentGrant:
    values: dict[str, object] = {
        "consent_id": "consent-1",
        "citizen_ref": CITIZEN,
        "recipient": JOBCENTER,
        "information_kinds": frozenset({"course_status", "bridging_status"}),
        "purpose": "bridging_to_employment",
        "given_at": GIVEN,
        "withdrawn_at": None,
    }
    values.update(changes)
    return ConsentGrant(**values)  # type: ignore[arg-type]


def ask(
    grants: list[ConsentGrant],
    *,
    at: dt.datetime = BETWEEN,
    recipient: str = JOBCENTER,
    kind: str = "course_status",
    purpose: str = "bridging_to_employment",
    bases: tuple[LegalBasis, ...] = (),
) -> Decision:
    return decide(
        citizen_ref=CITIZEN,
        recipient=recipient,
        information_kind=kind,
        purpose=purpose,
        at=at,
        grants=grants,
        legal_bases=bases,
    )


def test_a_covering_consent_allows_and_names_itself_as_basis() -> None:
    assert ask([grant()]) == Decision(True, Reason.CONSENT, "consent-1")


def test_without_any_consent_nothing_leaves() -> None:
    assert ask([]) == Decision(False, Reason.NO_CONSENT)


@pytest.mark.parametrize(
    "other",
    [{"citizen_ref": "someone-else"}, {"recipient": ASSOCIATION}],
    ids=["other citizen", "other recipient"],
)
def test_a_consent_for_someone_or_somewhere_else_does_not_count(other: dict[str, str]) -> None:
    assert ask([grant(**other)]).reason == "no_consent"


def test_a_consent_given_later_does_not_cover_earlier_deliveries() -> None:
    assert ask([grant()], at=GIVEN - dt.timedelta(seconds=1)).reason == Reason.NO_CONSENT


def test_withdrawal_blocks_from_its_own_instant() -> None:
    withdrawn = grant(withdrawn_at=WITHDRAWN)

    assert ask([withdrawn], at=WITHDRAWN - dt.timedelta(microseconds=1)).allowed
    assert ask([withdrawn], at=WITHDRAWN) == Decision(False, Reason.CONSENT_WITHDRAWN)
    assert ask([withdrawn], at=WITHDRAWN + dt.timedelta(days=1)).reason == "consent_withdrawn"


def test_kind_and_purpose_must_both_be_covered() -> None:
    assert ask([grant()], kind="housing_case_status") == Decision(False, Reason.KIND_NOT_COVERED)
    assert ask([grant()], purpose="marketing") == Decision(False, Reason.PURPOSE_NOT_COVERED)


def test_a_withdrawn_consent_that_covered_it_is_the_reason_reported() -> None:
    broad = grant(consent_id="broad", withdrawn_at=WITHDRAWN)
    narrow = grant(consent_id="narrow", information_kinds=frozenset({"bridging_status"}))

    assert ask([broad, narrow], at=WITHDRAWN).reason == Reason.CONSENT_WITHDRAWN
    assert ask([broad, narrow], at=WITHDRAWN, kind="bridging_status").basis == "narrow"


def test_purpose_and_recipient_compare_as_intake_compares_them() -> None:
    spaced = grant(purpose="Brobygning  til Jobcenter")
    assert ask([spaced], purpose="brobygning til jobcenter").allowed
    assert ask([grant()], recipient=f" {JOBCENTER} ").allowed


def test_a_consent_in_the_words_before_the_vocabulary_matches_its_code() -> None:
    # A consent given as "brobygning til beskæftigelse" (free text, first release) covers
    # a rule whose purpose is the code; a different purpose is still not covered.
    old = grant(purpose="Brobygning til  beskæftigelse")
    assert ask([old], purpose="bridging_employment").allowed
    assert ask([grant(purpose="bridging_employment")],
               purpose="brobygning til beskæftigelse").allowed
    assert ask([old], purpose="bridging_education") == Decision(
        False, Reason.PURPOSE_NOT_COVERED)


def test_the_newest_covering_consent_is_the_recorded_basis() -> None:
    older = grant(consent_id="older")
    newer = grant(consent_id="newer", given_at=GIVEN + dt.timedelta(days=1))

    assert ask([older, newer]).basis == "newer"


def test_a_legal_basis_allows_without_consent() -> None:
    basis = LegalBasis(
        recipient=ASSOCIATION,
        information_kind="partner_status",
        purpose="prevent_eviction",
        reference="retssikkerhedsloven § 5 a",
    )

    decision = ask(
        [], recipient=ASSOCIATION, kind="partner_status", purpose="prevent_eviction", bases=(basis,)
    )

    assert decision == Decision(True, Reason.LEGAL_BASIS, "retssikkerhedsloven § 5 a")
    assert not ask([], recipient=ASSOCIATION, kind="partner_status", bases=(basis,)).allowed


def test_a_naive_moment_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        ask([grant()], at=dt.datetime(2025, 4, 1))


def test_reasons_are_stable_identifiers() -> None:
    assert {r.value for r in Reason} == {
        "consent",
        "legal_basis",
        "no_consent",
        "consent_withdrawn",
        "kind_not_covered",
        "purpose_not_covered",
    }


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 1, 1), timezones=st.just(dt.UTC)
)


@given(at=moments, given_at=moments, withdrawn_at=st.none() | moments)
def test_allowed_exactly_between_giving_and_withdrawing(
    at: dt.datetime, given_at: dt.datetime, withdrawn_at: dt.datetime | None
) -> None:
    decision = ask([grant(given_at=given_at, withdrawn_at=withdrawn_at)], at=at)

    expected = given_at <= at and (withdrawn_at is None or at < withdrawn_at)
    assert decision.allowed is expected


# -- routing rules and subscriptions ------------------------------------------------


def test_a_valid_rule_is_built_from_configuration_strings() -> None:
    rule = routing_rule(
        "intake.bridging_due", "jobcenter", "webhook", "course_status", "bridging_employment"
    )

    assert rule.recipient_kind is RecipientKind.JOBCENTER
    assert rule.channel is DeliveryChannel.WEBHOOK
    assert rule.purpose == "bridging_employment"
    assert rule.needs_gate


def test_a_rule_s_purpose_is_a_consent_purpose_and_a_known_phrase_is_read_as_its_code() -> None:
    # The Danish phrase the first release used is read as the code it meant.
    old = routing_rule("housing.partner_status", "housing_association", "webhook",
                       "housing_case_status", "Forebyggelse af  udsættelse")
    assert old.purpose == "keep_home"
    with pytest.raises(DomainError) as error:
        routing_rule("housing.partner_status", "housing_association", "webhook",
                     "housing_case_status", "brobygning til job")
    assert (error.value.field, error.value.rule) == ("purpose", "routing.unknown_purpose")
    assert "bridging_employment" in error.value.message  # the allowed values are listed
    # A rule to a partner must name the purpose the gate compares; staff rules need none.
    with pytest.raises(DomainError) as missing:
        routing_rule("housing.partner_status", "housing_association", "webhook",
                     "housing_case_status", None)
    assert (missing.value.field, missing.value.rule) == (
        "purpose", "routing.kind_and_purpose_required")
    assert routing_rule("coordination.action_due", "team_members", "email", "action_plan",
                        None).purpose is None


def test_hand_offs_are_not_routed_by_rules() -> None:
    with pytest.raises(DomainError) as error:
        routing_rule("partners.handoff_requested", "partner", "webhook", "bridging_status",
                     "bridging_employment")
    assert (error.value.field, error.value.rule) == (
        "recipient_kind", "routing.handoff_recipient")


def test_staff_and_citizen_rules_do_not_need_the_partner_gate() -> None:
    rule = routing_rule("coordination.meeting_scheduled", "citizen", "sms", "meeting",
                        "pathway_team")

    assert not rule.needs_gate


@pytest.mark.parametrize(
    "partner, event_type",
    [
        ("jobcenter", "housing.case_escalated"),
        ("housing_association", "intake.bridging_due"),
        ("housing_association", "coordination.meeting_scheduled"),
        ("housing_association", "housing.case_opened"),
        # The internal escalation (citizen_ref, level, asks to staff) never leaves.
        ("housing_association", "housing.case_escalated"),
        ("jobcenter", "intake.pathway_referral"),
    ],
)
def test_a_partner_cannot_be_routed_events_it_may_not_see(partner: str, event_type: str) -> None:
    with pytest.raises(DomainError) as error:
        routing_rule(event_type, partner, "webhook", "status", "keep_home")

    assert (error.value.field, error.value.rule) == (
        "event_type",
        "subscription.not_visible_to_partner",
    )


def test_subscription_lists_every_hidden_event_type() -> None:
    with pytest.raises(DomainError, match=re.escape("coordination.x, intake.y")) as error:
        validate_subscription(
            PartnerKind.HOUSING, ["housing.partner_status", "intake.y", "coordination.x"]
        )

    assert error.value.rule == "subscription.not_visible_to_partner"
    validate_subscription("housing", ["housing.partner_status"])  # no error


def test_health_and_education_get_bridging_as_hand_offs_and_unknown_kinds_are_refused() -> None:
    # The one-way statement was never routed to them (issue 16): refused, naming what
    # they may receive instead.
    for kind in (PartnerKind.HEALTH, PartnerKind.EDUCATION):
        with pytest.raises(DomainError, match=r"partners\.handoff_requested"):
            validate_subscription(kind, ["intake.bridging_due"])
        validate_subscription(kind, ["partners.handoff_requested"])
    validate_subscription(None, ["partners.handoff_requested", "partners.handoff_updated"])
    with pytest.raises(DomainError, match=r"subscription\.not_visible_to_partner"):
        validate_subscription(None, ["housing.partner_status"])
    with pytest.raises(DomainError, match=r"subscription\.unknown_partner_kind"):
        validate_subscription("police", [])


def test_partners_see_only_event_types_of_the_real_catalogue() -> None:
    from contracts import registry

    known = {contract.type for contract in registry.events()}
    for visible in PARTNER_VISIBLE.values():
        assert visible <= known


def test_housing_associations_see_only_housing_events_and_their_hand_offs() -> None:
    assert PARTNER_VISIBLE[PartnerKind.HOUSING]
    assert all(t.startswith("housing.") or t in HANDOFF_EVENTS
               for t in PARTNER_VISIBLE[PartnerKind.HOUSING])
    assert "intake.bridging_due" in PARTNER_VISIBLE[PartnerKind.EMPLOYMENT]
    # Every kind of partner, and one with no kind, may take its hand-offs.
    for visible in PARTNER_VISIBLE.values():
        assert visible >= HANDOFF_EVENTS


@pytest.mark.parametrize(
    "recipient, channel",
    [
        ("citizen", "webhook"),
        ("team_members", "sms"),
        ("tovholder", "partner_queue"),
        ("jobcenter", "sms"),
    ],
)
def test_channels_must_fit_the_recipient(recipient: str, channel: str) -> None:
    event = "intake.bridging_due"
    with pytest.raises(DomainError, match=r"routing\.channel_not_allowed"):
        routing_rule(event, recipient, channel, "status", "bridging_employment")


@pytest.mark.parametrize(
    "args, rule",
    [
        (("x.y", "mayor", "email", "k", "pathway_team"), "routing.unknown_recipient_kind"),
        (("x.y", "citizen", "fax", "k", "pathway_team"), "routing.unknown_channel"),
        (("nodot", "citizen", "email", "k", "pathway_team"), "routing.invalid_event_type"),
        (("x.y", "citizen", "email", "", "pathway_team"), "routing.kind_and_purpose_required"),
    ],
)
def test_bad_rules_are_refused(args: tuple[str, str, str, str, str], rule: str) -> None:
    with pytest.raises(DomainError) as error:
        routing_rule(*args)

    assert error.value.rule == rule


def test_rules_for_picks_the_event_in_configuration_order() -> None:
    a = RoutingRule(
        "coordination.meeting_scheduled",
        RecipientKind.CITIZEN,
        DeliveryChannel.EMAIL,
        "meeting",
        "pathway",
    )
    b = RoutingRule(
        "coordination.meeting_scheduled",
        RecipientKind.TEAM_MEMBERS,
        DeliveryChannel.EMAIL,
        "meeting",
        "pathway",
    )
    c = RoutingRule(
        "coordination.action_due",
        RecipientKind.TEAM_MEMBERS,
        DeliveryChannel.EMAIL,
        "action",
        "pathway",
    )
    for rule in (a, b, c):
        validate_routing_rule(rule)

    assert rules_for("coordination.meeting_scheduled", [a, c, b]) == [a, b]
    assert rules_for("coordination.unknown", [a, b, c]) == []


# -- webhook URLs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://partner.example.dk/samspil", "https://partner.example.dk:8443/hooks?x=1"],
)
def test_https_urls_are_accepted(url: str) -> None:
    assert validate_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example.dk/hook",
        "ftp://partner.example.dk/hook",
        "http://localhost:8080/hook",  # loopback, but the flag is not set
        "http://127.0.0.1/hook",
    ],
)
def test_anything_but_https_is_refused(url: str) -> None:
    with pytest.raises(DomainError) as error:
        validate_webhook_url(url)

    assert (error.value.field, error.value.rule) == ("url", "webhook.https_required")


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/hook",
        "http://LOCALHOST/hook",
        "http://127.0.0.1:9000/hook",
        "http://127.8.9.10/hook",
        "http://[::1]:9000/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
    ],
)
def test_loopback_is_allowed_for_tests(url: str) -> None:
    assert validate_webhook_url(url, allow_loopback=True) == url


@pytest.mark.parametrize(
    "url",
    ["http://localhost.evil.example/hook", "http://127.0.0.1.nip.io/hook", "http://10.0.0.1/"],
)
def test_names_that_only_look_like_loopback_still_need_https(url: str) -> None:
    with pytest.raises(DomainError, match=r"webhook\.https_required"):
        validate_webhook_url(url, allow_loopback=True)


def test_https_to_loopback_without_the_flag_is_refused() -> None:
    with pytest.raises(DomainError, match=r"webhook\.loopback_not_allowed"):
        validate_webhook_url("https://127.0.0.1/admin")


@pytest.mark.parametrize(
    "url, rule",
    [
        ("not a url", "webhook.invalid_url"),
        ("https://", "webhook.invalid_url"),
        ("https://partner.example.dk:99999/", "webhook.invalid_url"),
        ("https://user:secret@partner.example.dk/", "webhook.credentials_in_url"),
    ],
)
def test_malformed_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(DomainError) as error:
        validate_webhook_url(url)

    assert error.value.rule == rule
