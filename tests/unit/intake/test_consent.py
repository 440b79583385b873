import datetime as dt

import pytest

from contracts.vocabulary import ConsentPurpose
from services.common.errors import Conflict, DomainError
from services.intake.consent import (
    AGENCIES,
    INFORMATION_KINDS,
    Consent,
    ConsentForm,
    ConsentGiven,
    ConsentWithdrawn,
    check_recipient,
    recipients_for,
)

UTC = dt.UTC
CPH_SUMMER = dt.timezone(dt.timedelta(hours=2))
GIVEN_AT = dt.datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
JOBCENTER = "jobcenter-ballerup"
PURPOSE = "Brobygning til uddannelse"


def a_consent(**overrides: object) -> Consent:
    arguments: dict[str, object] = {
        "recipient": JOBCENTER,
        "information_kinds": ["course_status", "bridging_status"],
        "purpose": PURPOSE,
        "given_at": GIVEN_AT,
        "given_by": "staff-17",
        "form": "written",
    }
    arguments.update(overrides)
    return Consent.give(**arguments)  # type: ignore[arg-type]


def test_giving_consent_raises_consent_given() -> None:
    consent = a_consent(form="oral")
    assert consent.form is ConsentForm.ORAL
    assert consent.events == [
        ConsentGiven(
            recipient=JOBCENTER,
            information_kinds=("bridging_status", "course_status"),
            purpose=PURPOSE,
            given_at=GIVEN_AT,
            given_by="staff-17",
            form=ConsentForm.ORAL,
        )
    ]


def test_the_information_kinds_are_the_agreed_list() -> None:
    assert {
        "contact_status",
        "course_status",
        "meeting_schedule",
        "housing_case_status",
        "bridging_status",
        "action_plan",
    } == INFORMATION_KINDS


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"recipient": "  "}, "recipient", "consent.recipient_missing"),
        ({"purpose": ""}, "purpose", "consent.purpose_missing"),
        ({"given_by": ""}, "given_by", "consent.given_by_missing"),
        ({"information_kinds": []}, "information_kinds", "consent.information_kinds_missing"),
        (
            {"information_kinds": ["course_status", "diagnosis"]},
            "information_kinds",
            "consent.information_kind_unknown",
        ),
        ({"form": "telepathic"}, "form", "consent.form_unknown"),
        ({"given_at": dt.datetime(2024, 3, 1, 10)}, "given_at", "consent.time_without_zone"),
    ],
)
def test_a_consent_must_be_specific(overrides: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(DomainError) as error:
        a_consent(**overrides)
    assert (error.value.field, error.value.rule) == (field, rule)


def test_covers_exactly_what_was_agreed() -> None:
    consent = a_consent()
    after = GIVEN_AT + dt.timedelta(days=1)
    assert consent.covers(JOBCENTER, "course_status", PURPOSE, after)
    assert consent.covers(JOBCENTER, "bridging_status", PURPOSE, after)
    assert not consent.covers("boligforening-42", "course_status", PURPOSE, after)
    assert not consent.covers(JOBCENTER, "meeting_schedule", PURPOSE, after)
    assert not consent.covers(JOBCENTER, "diagnosis", PURPOSE, after)
    assert not consent.covers(JOBCENTER, "course_status", "Opfølgning på ledighed", after)


def test_purpose_is_compared_without_case_or_spacing() -> None:
    consent = a_consent()
    after = GIVEN_AT + dt.timedelta(days=1)
    assert consent.covers(JOBCENTER, "course_status", "  brobygning  til UDDANNELSE ", after)


def test_covers_from_the_moment_given_in_any_time_zone() -> None:
    consent = a_consent()
    same_moment_in_copenhagen = dt.datetime(2024, 3, 1, 12, 0, tzinfo=CPH_SUMMER)
    assert consent.covers(JOBCENTER, "course_status", PURPOSE, same_moment_in_copenhagen)
    one_second_before = GIVEN_AT - dt.timedelta(seconds=1)
    assert not consent.covers(JOBCENTER, "course_status", PURPOSE, one_second_before)


def test_covers_refuses_a_time_without_zone() -> None:
    with pytest.raises(DomainError) as error:
        a_consent().covers(JOBCENTER, "course_status", PURPOSE, dt.datetime(2024, 3, 2))
    assert error.value.rule == "consent.time_without_zone"


def test_withdrawal_stops_covering_from_the_moment_of_withdrawal() -> None:
    consent = a_consent()
    withdrawn_at = GIVEN_AT + dt.timedelta(days=10)
    consent.withdraw(withdrawn_at, "staff-3")
    assert consent.is_withdrawn
    assert consent.events[-1] == ConsentWithdrawn(JOBCENTER, withdrawn_at, "staff-3")
    just_before = withdrawn_at - dt.timedelta(microseconds=1)
    assert consent.covers(JOBCENTER, "course_status", PURPOSE, just_before)
    assert not consent.covers(JOBCENTER, "course_status", PURPOSE, withdrawn_at)
    assert not consent.covers(JOBCENTER, "course_status", PURPOSE, withdrawn_at + dt.timedelta(1))


def test_withdrawing_twice_is_a_conflict() -> None:
    consent = a_consent()
    consent.withdraw(GIVEN_AT + dt.timedelta(days=1), "staff-3")
    with pytest.raises(Conflict) as conflict:
        consent.withdraw(GIVEN_AT + dt.timedelta(days=2), "staff-3")
    assert (conflict.value.field, conflict.value.rule) == ("consent", "consent.already_withdrawn")
    assert consent.withdrawn_at == GIVEN_AT + dt.timedelta(days=1)
    assert len(consent.events) == 2


def test_withdrawing_before_it_was_given_is_refused() -> None:
    consent = a_consent()
    with pytest.raises(DomainError) as error:
        consent.withdraw(GIVEN_AT - dt.timedelta(seconds=1), "staff-3")
    assert (error.value.field, error.value.rule) == (
        "withdrawn_at",
        "consent.withdrawn_before_given",
    )
    assert not consent.is_withdrawn


def test_withdrawn_at_the_moment_given_covers_nothing() -> None:
    consent = a_consent()
    consent.withdraw(GIVEN_AT, "staff-3")
    assert not consent.covers(JOBCENTER, "course_status", PURPOSE, GIVEN_AT)


def test_withdrawal_needs_who_and_a_time_zone() -> None:
    consent = a_consent()
    with pytest.raises(DomainError) as error:
        consent.withdraw(GIVEN_AT + dt.timedelta(days=1), " ")
    assert error.value.rule == "consent.withdrawn_by_missing"
    with pytest.raises(DomainError) as error:
        consent.withdraw(dt.datetime(2024, 3, 5), "staff-3")
    assert error.value.rule == "consent.time_without_zone"
    assert not consent.is_withdrawn


def test_loading_a_stored_consent_raises_no_event_but_is_checked() -> None:
    stored = Consent(
        recipient=JOBCENTER,
        information_kinds=frozenset({"contact_status"}),
        purpose=PURPOSE,
        given_at=GIVEN_AT,
        given_by="staff-17",
        form=ConsentForm.DIGITAL,
        withdrawn_at=GIVEN_AT + dt.timedelta(days=3),
        withdrawn_by="staff-3",
    )
    assert stored.events == []
    assert not stored.covers(JOBCENTER, "contact_status", PURPOSE, GIVEN_AT + dt.timedelta(days=4))
    with pytest.raises(DomainError):
        Consent(
            recipient=JOBCENTER,
            information_kinds=frozenset({"everything"}),
            purpose=PURPOSE,
            given_at=GIVEN_AT,
            given_by="staff-17",
            form=ConsentForm.DIGITAL,
        )


def test_a_stored_consent_withdrawn_before_it_was_given_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        Consent(
            recipient=JOBCENTER,
            information_kinds=frozenset({"contact_status"}),
            purpose=PURPOSE,
            given_at=GIVEN_AT,
            given_by="staff-17",
            form=ConsentForm.WRITTEN,
            withdrawn_at=GIVEN_AT - dt.timedelta(days=1),
            withdrawn_by="staff-3",
        )
    assert error.value.rule == "consent.withdrawn_before_given"


# --- the vocabulary (issue 16) ---------------------------------------------------------------

PARTNERS = ["jobcenter-ballerup", "uu-ballerup"]


def test_a_pathway_team_consent_names_an_agency_the_rest_a_partner() -> None:
    assert recipients_for(ConsentPurpose.PATHWAY_TEAM, PARTNERS) == sorted(AGENCIES)
    for purpose in set(ConsentPurpose) - {ConsentPurpose.PATHWAY_TEAM}:
        assert recipients_for(purpose, PARTNERS) == PARTNERS
    assert check_recipient(" jobcenter ", ConsentPurpose.PATHWAY_TEAM, PARTNERS) == "jobcenter"
    assert check_recipient("uu-ballerup", ConsentPurpose.BRIDGING_EDUCATION, PARTNERS) == (
        "uu-ballerup")


@pytest.mark.parametrize(("recipient", "purpose", "rule", "allowed"), [
    ("jobcenter balerup", ConsentPurpose.BRIDGING_EMPLOYMENT, "consent.recipient_unknown",
     sorted([*AGENCIES, *PARTNERS])),
    ("jobcenter", ConsentPurpose.BRIDGING_EMPLOYMENT, "consent.recipient_not_for_purpose",
     PARTNERS),
    ("uu-ballerup", ConsentPurpose.PATHWAY_TEAM, "consent.recipient_not_for_purpose",
     sorted(AGENCIES)),
])
def test_an_unknown_recipient_is_refused_listing_the_allowed_ones(
    recipient, purpose, rule, allowed
) -> None:
    with pytest.raises(DomainError) as err:
        check_recipient(recipient, purpose, PARTNERS)
    assert (err.value.field, err.value.rule) == ("recipient", rule)
    assert err.value.message.endswith("Allowed: " + ", ".join(allowed) + ".")
    assert recipient not in err.value.message.split("Allowed:")[0]  # never echoed


def test_no_partner_registered_yet_says_so() -> None:
    with pytest.raises(DomainError) as err:
        check_recipient("jobcenter", ConsentPurpose.KEEP_HOME, [])
    assert err.value.message.endswith("Allowed: none registered yet.")
