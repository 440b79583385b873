"""The worklists' urgency order (pure sort keys) and the Danish reasons their items give."""

from __future__ import annotations

import datetime as dt
import uuid

from services.coordination import ordering, texts

UTC = dt.UTC
T = dt.datetime(2021, 3, 1, 7, 0, tzinfo=UTC)


def test_awaiting_tovholder_puts_under_30s_first_then_the_longest_waiting():
    ids = [uuid.UUID(int=i) for i in range(6)]
    pathways = [
        ("older, over 30", False, T - dt.timedelta(days=20), ids[0]),
        ("newest, under 30", True, T, ids[1]),
        ("age unknown, oldest", None, T - dt.timedelta(days=30), ids[2]),
        ("oldest under 30", True, T - dt.timedelta(days=5), ids[3]),
        ("same time as the newest under 30, lower id", True, T, ids[0]),
        ("over 30, new", False, T - dt.timedelta(days=1), ids[5]),
    ]
    ranked = sorted(pathways, key=lambda p: ordering.awaiting_key(p[1], p[2], p[3]))
    assert [p[0] for p in ranked] == [
        "oldest under 30", "same time as the newest under 30, lower id", "newest, under 30",
        "age unknown, oldest", "older, over 30", "over 30, new"]


def test_my_pathways_lead_with_the_ones_i_lead():
    a, b = uuid.UUID(int=1), uuid.UUID(int=2)
    keys = sorted([ordering.my_pathway_key(False, T - dt.timedelta(days=99), a),
                   ordering.my_pathway_key(True, T, b)])
    assert keys[0][2] == b


def test_actions_and_housing_cases_most_urgent_first():
    assert sorted([ordering.action_key(dt.date(2021, 3, 5), 1),
                   ordering.action_key(dt.date(2021, 3, 1), 9)])[0][1] == 9
    case_a, case_b = uuid.UUID(int=1), uuid.UUID(int=2)
    late_help_far = ordering.housing_key(0, T + dt.timedelta(days=60), case_b)
    urgent_soon = ordering.housing_key(1, T, case_a)
    assert sorted([urgent_soon, late_help_far])[0] == late_help_far


def test_danish_dates_and_moments():
    assert texts.date_text(dt.date(2021, 3, 15)) == "15. marts 2021"
    # 09:00 UTC on 2 March is 10:00 in Copenhagen (CET).
    assert texts.moment_text(dt.datetime(2021, 3, 2, 9, tzinfo=UTC)) == \
        "tirsdag 2. marts 2021 kl. 10.00"
    # Summer time: 08:00 UTC on 1 July is 10:00 (CEST).
    assert texts.moment_text(dt.datetime(2021, 7, 1, 8, tzinfo=UTC)).endswith("kl. 10.00")


def test_awaiting_reason_names_the_priority_and_the_wait():
    assert texts.awaiting_reason(True, 3, dt.date(2021, 3, 1)) == \
        "Borger under 30 år venter på en tovholder i 3 dage (siden 1. marts 2021)."
    assert texts.awaiting_reason(None, 0, dt.date(2021, 3, 1)) == \
        "Borgeren venter på en tovholder siden i dag."
    assert "i 1 dag " in texts.awaiting_reason(False, 1, dt.date(2021, 3, 1))


def test_action_reasons_say_by_when_and_why_it_is_mine():
    today = dt.date(2021, 3, 10)
    assert texts.action_reason(dt.date(2021, 3, 7), today, True) == \
        "Handlingen er overskredet med 3 dage (frist 7. marts 2021). Du er ansvarlig for den."
    assert texts.action_reason(today, today, False) == \
        "Handlingen skal være gjort i dag. Du er tovholder for forløbet."
    assert texts.action_reason(dt.date(2021, 3, 12), today, True).startswith(
        "Handlingen skal være gjort senest 12. marts 2021.")


def test_housing_reason_puts_the_late_help_first():
    reason = texts.housing_reason(late_help=True, pakrav_deadline=dt.date(2024, 2, 15),
                                  short_pakrav=True, overdue_kind="outreach",
                                  level="outreach_due")
    assert reason.startswith(
        "Hjælp efter § 81 a kan først komme efter påkravsfristen 15. februar 2024.")
    overdue = texts.housing_reason(late_help=False, pakrav_deadline=None, short_pakrav=False,
                                   overdue_kind="hold_expires",
                                   level="escalated_to_association")
    assert overdue.startswith("Fristen for boligforeningens venteperiode i huslejesagen er "
                              "overskredet.")
    assert texts.housing_reason(late_help=False, pakrav_deadline=None, short_pakrav=False,
                                overdue_kind=None, level="reported") == \
        "Huslejerestancen er anmeldt."


def test_pathway_and_meeting_reasons():
    assert texts.pathway_reason(True, "socialrådgiver", "unagreed") == (
        "Du er tovholder for forløbet. Den nyeste handleplan mangler borgerens godkendelse.")
    assert texts.pathway_reason(False, "lærer", "agreed") == "Du er med i teamet som lærer."
    assert texts.meeting_reason(dt.datetime(2021, 3, 2, 9, tzinfo=UTC), "home", False) == (
        "Møde tirsdag 2. marts 2021 kl. 10.00 hjemme hos borgeren. Du er inviteret.")


def test_every_code_shown_to_staff_has_danish_words():
    from contracts.housing import DEADLINE_KINDS
    from contracts.vocabulary import HousingRequest, LadderLevel

    assert set(texts.LEVELS) == {level.value for level in LadderLevel}
    assert set(texts.REQUESTS) == {request.value for request in HousingRequest}
    assert set(texts.DEADLINE_KINDS) == set(DEADLINE_KINDS)


def test_handoffs_needing_attention_the_longest_waiting_first():
    ids = [uuid.UUID(int=i) for i in range(3)]
    waiting = [("declined today", T, ids[0]), ("escalated last week", T - dt.timedelta(days=7),
                                                ids[1]), ("declined today, lower id", T, ids[2])]
    ranked = sorted(waiting, key=lambda h: ordering.handoff_key(h[1], h[2]))
    assert [h[0] for h in ranked] == ["escalated last week", "declined today",
                                      "declined today, lower id"]


def test_handoff_reasons_say_who_did_what_in_danish():
    assert texts.handoff_reason(attention="declined", handoff_kind="bridging_employment",
                                partner="Jobcenter Ballerup", reason=" Ingen plads. ",
                                answer_by=None) == (
        "Jobcenter Ballerup har afvist brobygningen til beskæftigelse. Begrundelse: Ingen "
        "plads. Aftal det videre med borgeren.")
    assert texts.handoff_reason(attention="declined", handoff_kind="referral_85",
                                partner="Social Vejledning", reason=None, answer_by=None) == (
        "Social Vejledning har afvist henvisningen til en § 85-vurdering. Aftal det videre "
        "med borgeren.")
    assert texts.handoff_reason(attention="escalated", handoff_kind="hold_termination",
                                partner="KAB", reason=None,
                                answer_by=dt.date(2021, 3, 8)) == (
        "KAB har ikke svaret på anmodningen om at vente med at ophæve lejemålet; "
        "svarfristen var 8. marts 2021. Følg op hos KAB.")
    assert texts.restricted_reason(None) == (
        "Du er med i teamet. Borgeren har ikke givet samtykke til, at din organisation ser "
        "forløbet.")
