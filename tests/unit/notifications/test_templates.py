"""Texts: right words to the right reader, and never a field it may not see."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from contracts.vocabulary import PartnerKind
from services.common.errors import DomainError
from services.notifications import templates
from services.notifications.gate import PARTNER_RECIPIENTS, PARTNER_VISIBLE, RecipientKind
from services.notifications.templates import (
    TEMPLATES,
    Template,
    check_templates,
    format_datetime,
    has_template,
    render,
)

MONDAY_10_CPH = dt.datetime(2025, 10, 27, 9, 0, tzinfo=dt.UTC)  # after DST ended
FRIDAY_10_CPH = dt.datetime(2025, 10, 24, 8, 0, tzinfo=dt.UTC)  # still summer time

# Every field any template allows, plus fields no text may ever print.
SAMPLE: dict[str, object] = {
    "starts_at": MONDAY_10_CPH,
    "location": "Bydelshuset, Søndergårdsvej 5",
    "tovholder_name": "Åse Østergård",
    "pathway_ref": "SB-2025-0042",
    "new_tovholder_name": "Søren Ærø",
    "new_tovholder_agency": "upoint",
    "new_tovholder_contact": "soeren@balk.dk",
    "due_on": dt.date(2025, 10, 31),
    "action_ref": "ringe-om-morgenen",
    "case_ref": "HR-17",
    "level": "escalated_to_association",
    "request": "make_plan_or_apply_for_help",
    "deadline": dt.date(2025, 11, 10),
    "tenancy_ref": "L-1042",
    "status": "hold_termination_requested",
    "planned_end": dt.date(2025, 12, 19),
    "course_ref": "JC-99812",
    "withdrawn_at": MONDAY_10_CPH,
    "recipient_name": "Jobcenter Ballerup",
    "participants": "- Åse Østergård (din tovholder)\n- Lærke Lund",
    "citizen_name": "Vincent Væver",
    "tovholder_contact": "aase@balk.dk",
    "handover_note": "Vincent ringer helst om formiddagen.",
    "team": "- Lærke Lærer (laerke@skole.dk)",
    "opened_at": MONDAY_10_CPH,
    "priority": "Borgeren er under 30 år og skal have forrang (Plads til alle).",
    "closed_on": dt.date(2026, 6, 30),
    "role": "boligrådgiver",
    "member_name": "Bo Boligrådgiver",
    "agency": "housing",
    "requests": "Kontakt borgeren; Inddrag det boligsociale team",
    "flag": "Påkravets frist er kortere end de 14 dage, loven giver lejeren",
    "pakrav_deadline": dt.date(2025, 11, 3),
    "deadline_kind": "termination_response",
    "referred_on": dt.date(2025, 10, 20),
    "kind": "individual_82b",
    "requested_on": dt.date(2025, 10, 21),
    "rule": "four_weeks_broken_agreements",
    "proposed_on": dt.date(2025, 10, 22),
    "last_kept_on": dt.date(2025, 9, 22),
    "cancelled_on": dt.date(2025, 10, 23),
    "reason": "course_ended_early",
    # hand-offs (content.template_data writes these as Danish lines)
    "title": "Brobygning til beskæftigelse",
    "answer_by": dt.date(2025, 11, 4),
    "partner_name": "Ungdommens Uddannelsesvejledning",
    "ask": "Vi beder jer tage imod borgeren i brobygning fra 9. april.",
    "details": "Brobygningen begynder senest: 9. april 2025",
    "contact": "Anne Andersen, telefon 44 77 34 43, mail anne@balk.dk",
    "answer_where": "Svar med jeres partnernøgle over Samspils API: POST /api/handoffs/x",
    "handoff_ref": "5d0c8f2e-7a41-4c39-9b8e-1f2a3b4c5d6e",
    "subject_line": "Forløb i Fronten, reference 9b2e4c6a",
    "facts": "Status: Annulleret af kommunen",
    "requested_at": MONDAY_10_CPH,
}
LEAKS = {
    "cpr": "010190-1234",
    "cpr_number": "0101901234",
    "diagnosis": "DIAGNOSE-X",
    "wish": "BORGERENS-ØNSKE",
}

# Texts people outside the municipality read: the citizen and the network persons.
PEOPLE_TEXTS = [key for key in TEMPLATES
                if key[1] in (RecipientKind.CITIZEN, RecipientKind.NETWORK)]


@pytest.mark.parametrize("key", list(TEMPLATES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_every_template_renders_and_prints_nothing_it_was_not_allowed(
    key: tuple[str, RecipientKind],
) -> None:
    message = render(key[0], key[1], SAMPLE | LEAKS)

    assert "$" not in message.subject + message.text
    assert "\n" not in message.subject
    for leak in LEAKS.values():
        assert leak not in message.subject + message.text
    # Values of fields outside this template's allow-list do not appear either.
    for name, value in SAMPLE.items():
        if name not in TEMPLATES[key].fields and isinstance(value, str) and len(value) > 6:
            assert value not in message.text, name


def test_the_brief_s_events_are_covered() -> None:
    required = {
        ("coordination.meeting_scheduled", "citizen"),
        ("coordination.meeting_scheduled", "team_members"),
        ("coordination.meeting_rescheduled", "citizen"),
        ("coordination.meeting_rescheduled", "team_members"),
        ("coordination.meeting_cancelled", "citizen"),
        ("coordination.meeting_cancelled", "team_members"),
        ("coordination.tovholder_handed_over", "citizen"),
        ("coordination.action_due", "team_members"),
        ("housing.case_escalated", "tovholder"),
        ("housing.case_escalated", "fronten"),
        ("housing.partner_status", "housing_association"),
        ("intake.bridging_due", "jobcenter"),
        ("intake.consent_withdrawn", "citizen"),
        # issue 15 (ADR 0012)
        ("intake.referral_85_made", "social_vejledning"),
        ("intake.course_review_requested", "review_panel"),
        ("intake.course_ending_proposed", "fronten"),
        ("intake.bridging_cancelled", "jobcenter"),
        ("coordination.pathway_opened", "coordinators"),
        ("coordination.pathway_closed", "citizen"),
        ("coordination.tovholder_handed_over", "tovholder"),
        ("coordination.tovholder_handed_over", "team_members"),
        ("coordination.member_added", "team_members"),
        ("coordination.action_overdue", "team_members"),
        ("coordination.housing_escalation_noted", "tovholder"),
        ("coordination.housing_warning_noted", "tovholder"),
        ("housing.warning_flagged", "housing_officers"),
        ("housing.action_overdue", "housing_officers"),
        ("coordination.meeting_scheduled", "network"),
        ("coordination.meeting_rescheduled", "network"),
        ("coordination.meeting_cancelled", "network"),
    }

    assert required <= {(event, str(kind)) for event, kind in TEMPLATES}


@pytest.mark.parametrize("key", PEOPLE_TEXTS, ids=lambda k: f"{k[0]}-{k[1]}")
def test_texts_to_people_are_plain_danish_with_a_contact(key: tuple[str, RecipientKind]) -> None:
    text = render(key[0], key[1], SAMPLE).text

    for contact in ("Fronten", "Parkvej 10, 2750 Ballerup", "44 77 34 43", "ss-front@balk.dk"):
        assert contact in text
    assert re.search(r"\b(du|dig|din|dit|dine)\b", text)  # du-form
    assert not re.search(r"\b(De|Dem|Deres)\b", text)  # not the formal De-form
    assert "§" not in text  # no paragraph numbers to citizens
    for jargon in ("eskaler", "restance", "brobygning", "handleplan", "visitation"):
        assert jargon not in text.lower()
    body = text.split("Har du spørgsmål")[0]
    sentences = [s for s in re.split(r"[.!?:\n]+", body) if s.strip()]
    assert max(len(s.split()) for s in sentences) <= 16  # short sentences


def test_meeting_time_is_copenhagen_time_across_dst() -> None:
    monday = render("coordination.meeting_scheduled", "citizen", SAMPLE).text
    friday = render(
        "coordination.meeting_rescheduled", "citizen", SAMPLE | {"starts_at": FRIDAY_10_CPH}
    ).text

    assert "Tid: mandag den 27. oktober 2025 kl. 10.00" in monday
    assert "Ny tid: fredag den 24. oktober 2025 kl. 10.00" in friday


def test_new_tovholder_is_named_with_contact() -> None:
    message = render("coordination.tovholder_handed_over", "citizen", SAMPLE)

    assert message.subject == "Du har fået en ny tovholder"
    assert message.text.startswith(
        "Hej\n\nDu har fået en ny tovholder. Det er Søren Ærø fra Upoint."
    )
    assert "soeren@balk.dk" in message.text


def test_the_association_gets_only_its_tenancy_and_the_partner_status() -> None:
    template = TEMPLATES[("housing.partner_status", RecipientKind.HOUSING_ASSOCIATION)]
    message = render("housing.partner_status", "housing_association", SAMPLE | LEAKS)

    assert template.fields == {"tenancy_ref", "status"}
    assert message.subject == "Status på lejemål L-1042"
    assert "vente med at ophæve lejemålet" in message.text
    for internal in ("HR-17", "Åse", "Boligforeningen er bedt", "§", "SB-2025"):
        assert internal not in message.text


def test_staff_version_of_an_escalation_names_the_step_and_the_law() -> None:
    text = render("housing.case_escalated", "tovholder", SAMPLE).text

    assert "Huslejesag HR-17" in text
    assert "Trin: Boligforeningen er bedt om at afvente ophævelse" in text
    assert "Opgave: Lav en afdragsplan med borgeren, eller søg om hjælp" in text
    assert "Frist for næste skridt: 10. november 2025" in text
    assert "retssikkerhedsloven § 5 a" in text


def test_jobcenter_bridging_text() -> None:
    message = render("intake.bridging_due", "jobcenter", SAMPLE)

    assert message.subject == "Brobygning: forløb i Fronten slutter 19. december 2025"
    assert "Forløbets reference: JC-99812" in message.text
    assert "senest 31. oktober 2025" in message.text


def test_consent_withdrawn_confirmation() -> None:
    text = render("intake.consent_withdrawn", "citizen", SAMPLE).text

    assert "Det gælder fra mandag den 27. oktober 2025 kl. 10.00." in text
    assert "Jobcenter Ballerup" in text


@pytest.mark.parametrize(
    "event_type, kind",
    [
        ("coordination.meeting_scheduled", "jobcenter"),
        ("housing.case_escalated", "citizen"),
        ("housing.case_escalated", "housing_association"),
        ("intake.unknown", "citizen"),
        ("coordination.meeting_scheduled", "mayor"),
    ],
)
def test_unknown_combinations_are_refused(event_type: str, kind: str) -> None:
    with pytest.raises(DomainError) as error:
        render(event_type, kind, SAMPLE)

    assert error.value.rule == "template.not_found"
    assert not has_template(event_type, kind)


def test_missing_values_are_refused_by_name() -> None:
    data = {k: v for k, v in SAMPLE.items() if k != "location"}

    with pytest.raises(DomainError) as error:
        render("coordination.meeting_scheduled", "citizen", data)

    assert (error.value.field, error.value.rule) == ("data.location", "template.missing_value")


def test_codes_without_a_danish_label_are_refused() -> None:
    with pytest.raises(DomainError, match=r"template\.unknown_value"):
        render("housing.partner_status", "housing_association", SAMPLE | {"status": "x"})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(DomainError, match=r"template\.naive_datetime"):
        render(
            "coordination.meeting_scheduled",
            "citizen",
            SAMPLE | {"starts_at": dt.datetime(2025, 10, 27, 10, 0)},
        )


def test_a_newline_cannot_reach_the_subject() -> None:
    data = SAMPLE | {"case_ref": "SB-1\r\nBcc: someone@evil.example"}

    subject = render("housing.warning_flagged", "housing_officers", data).subject

    assert "\r" not in subject
    assert "\n" not in subject


@pytest.mark.parametrize(
    "template",
    [
        Template("Hej", "Dit CPR: ${cpr}", frozenset({"cpr"})),  # forbidden field
        Template("Hej", "Hej ${name}", frozenset()),  # prints outside its allow-list
        Template("Hej", "Hej", frozenset({"name"})),  # allows more than it prints
    ],
)
def test_bad_templates_fail_the_check(template: Template) -> None:
    with pytest.raises(ValueError):
        check_templates({("x.y", RecipientKind.CITIZEN): template})


def test_partner_texts_are_only_for_events_the_partner_may_see() -> None:
    for event_type, kind in TEMPLATES:
        partner: PartnerKind | None = PARTNER_RECIPIENTS.get(kind)
        if partner is not None:
            assert event_type in PARTNER_VISIBLE[partner], (event_type, kind)


def test_format_datetime_in_summer_and_winter() -> None:
    assert format_datetime(FRIDAY_10_CPH) == "fredag den 24. oktober 2025 kl. 10.00"
    assert templates.format_date(dt.date(2026, 2, 1)) == "1. februar 2026"
    with pytest.raises(ValueError):
        format_datetime(dt.datetime(2025, 1, 1))


def test_the_operator_page_shows_every_text_as_it_is_sent() -> None:
    docs = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
    page = docs.read_text(encoding="utf-8")
    for (event_type, kind), template in TEMPLATES.items():
        block = (f"#### `{event_type}` → {kind.value}\n\n```text\nEmne: {template.subject}\n\n"
                 f"{template.body}\n```")
        assert block in page, f"docs/notifications.md is stale for {event_type} → {kind}"
