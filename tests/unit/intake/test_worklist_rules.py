"""The pure rules behind intake's worklists: the target group at the door, the Danish
each item says, and the setting for Social Vejledning's answer."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.intake import FLAG_DECISIONS, FLAG_SUBJECTS
from services.common.errors import Conflict
from services.intake import danish
from services.intake.flags import FlagDecision, FlagSubject, decide_flag, outside_target_group
from services.intake.settings import IntakeSettings

D = dt.date


# --- the target group: 16 to state pension age, flagged, never refused -----------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (D(2002, 6, 1), D(2018, 5, 31), 15),  # the day before the 16th birthday
        (D(1951, 6, 1), D(2018, 6, 1), 67),  # the state pension age is outside
        (D(1901, 1, 1), D(2018, 4, 3), 117),  # the citizen aged 117
    ],
)
def test_outside_the_target_group_is_flagged_with_the_age(
    birth: dt.date, on: dt.date, age: int
) -> None:
    group = outside_target_group(birth, on, 67)
    assert group is not None and group.age == age and not group.in_target_group


@pytest.mark.parametrize(
    ("birth", "on"),
    [(D(2002, 6, 1), D(2018, 6, 1)), (D(1951, 6, 2), D(2018, 6, 1)),
     (D(1990, 1, 1), D(2018, 1, 1))],
)
def test_inside_the_target_group_is_not_flagged(birth: dt.date, on: dt.date) -> None:
    assert outside_target_group(birth, on, 67) is None


def test_the_top_of_the_target_group_is_the_pension_age_setting() -> None:
    assert outside_target_group(D(1951, 6, 1), D(2018, 6, 1), 68) is None
    assert outside_target_group(D(1951, 6, 1), D(2018, 6, 1), 67) is not None


def test_a_flag_is_decided_once() -> None:
    assert decide_flag(None, "accepted") is FlagDecision.ACCEPTED
    with pytest.raises(Conflict) as error:
        decide_flag("accepted", "declined")
    assert (error.value.field, error.value.rule) == ("flag_id", "flag.already_decided")


def test_the_wire_values_are_the_domains() -> None:
    assert set(FLAG_SUBJECTS) == {str(s) for s in FlagSubject}
    assert set(FLAG_DECISIONS) == {str(d) for d in FlagDecision}


# --- what the items say, in Danish -----------------------------------------------------------


def test_dates_read_as_danish_dates() -> None:
    assert danish.date_text(D(2018, 5, 9)) == "9. maj 2018"
    assert danish.date_text(D(2026, 12, 24)) == "24. december 2026"


def test_an_open_inquiry_says_who_how_and_how_long_it_waited() -> None:
    code, text = danish.open_inquiry_reason(
        registered_on=D(2018, 4, 3), channel="phone", inquirer_kind="relative",
        anonymous=True, today=D(2018, 4, 6),
    )
    assert code == "inquiry_open"
    assert text == ("Anonym henvendelse fra en pårørende (telefon) den 3. april 2018 har "
                    "endnu ikke fået et udfald. Den har ventet 3 dage.")
    _, today = danish.open_inquiry_reason(
        registered_on=D(2018, 4, 6), channel="walk_in", inquirer_kind="citizen",
        anonymous=False, today=D(2018, 4, 6),
    )
    assert today == ("Henvendelse fra borgeren selv (personligt fremmøde) i dag har endnu "
                     "ikke fået et udfald.")


def test_a_follow_up_is_due_on_its_day_and_overdue_after() -> None:
    assert danish.follow_up_reason(follow_up_on=D(2018, 5, 8), kind="sft",
                                   today=D(2018, 5, 8))[0] == "follow_up_due"
    code, text = danish.follow_up_reason(follow_up_on=D(2018, 5, 8), kind="individual_82b",
                                         today=D(2018, 5, 9))
    assert code == "follow_up_overdue"
    assert "8. maj 2018" in text and "individuelt forløb (§ 82 b)" in text


@pytest.mark.parametrize(
    ("kinds", "told", "code", "words"),
    [
        ([], [], "bridging_partner_missing", "ikke valgt en samarbejdspartner"),
        (["employment"], [], "bridging_due", "beskæftigelse (jobcenteret) begynder"),
        (["health", "education"], ["education", "health"], "bridging_in_progress",
         "uddannelse og sundhed er i gang"),
    ],
)
def test_bridging_says_what_is_missing_or_what_is_under_way(
    kinds: list[str], told: list[str], code: str, words: str
) -> None:
    got_code, text = danish.bridging_reason(
        bridging_due_on=D(2018, 5, 9), planned_end=D(2018, 7, 9), partner_kinds=kinds,
        told=told,
    )
    assert got_code == code and words in text and "9. juli 2018" in text


def test_the_agenda_and_end_overdue_say_where_the_panel_stands() -> None:
    assert danish.agenda_reason(kind="sft", planned_end=D(2019, 1, 9),
                                requested_on=None)[0] == "review_not_requested"
    assert danish.agenda_reason(kind="sft", planned_end=D(2019, 1, 9),
                                requested_on=D(2018, 12, 1))[0] == "review_requested"
    common = {"kind": "individual_82b", "planned_end": D(2018, 7, 9),
              "max_end": D(2018, 10, 9)}
    none = danish.end_overdue_reason(**common, requested_on=None, decision=None,
                                     decided_on=None)
    pending = danish.end_overdue_reason(**common, requested_on=D(2018, 6, 1), decision=None,
                                        decided_on=None)
    approved = danish.end_overdue_reason(**common, requested_on=D(2018, 6, 1), decision="end",
                                         decided_on=D(2018, 7, 20))
    assert [none[0], pending[0], approved[0]] == [
        "end_overdue_no_review", "end_overdue_review_pending", "end_approved_not_ended"
    ]
    assert all("9. oktober 2018" in text for _, text in (none, pending, approved))


def test_an_ending_proposal_says_since_when_and_what_to_do() -> None:
    _, text = danish.ending_proposed_reason(
        proposed_on=D(2026, 6, 30), last_kept_on=D(2026, 3, 2), start_date=D(2026, 3, 2)
    )
    assert text.startswith("Borgeren har ikke overholdt aftaler i 4 uger siden den sidst "
                           "overholdte aftale 2. marts 2026.")
    assert "bekræft afslutningen" in text and "rette spor" in text
    _, never = danish.ending_proposed_reason(
        proposed_on=D(2026, 3, 30), last_kept_on=None, start_date=D(2026, 3, 2)
    )
    assert "siden forløbet begyndte 2. marts 2026" in never


def test_referral_and_target_group_items_read_well() -> None:
    _, text = danish.referral_85_reason(referred_on=D(2018, 9, 20), kind="sft",
                                        answer_by=D(2018, 10, 4))
    assert text == ("Henvist til udredning efter servicelovens § 85 20. september 2018 fra "
                    "Fronten (Social Færdighedstræning). Social Vejledning bedes træffe "
                    "afgørelse senest 4. oktober 2018.")
    _, flag = danish.outside_target_group_reason(subject="pathway_referral", age=117,
                                                 on=D(2018, 4, 3))
    assert "117 år" in flag and "sammenhængende borgerforløb" in flag


def test_no_english_code_reaches_the_text() -> None:
    texts = [
        danish.bridging_reason(bridging_due_on=D(2018, 5, 9), planned_end=D(2018, 7, 9),
                               partner_kinds=["employment", "education", "health"],
                               told=[])[1],
        danish.follow_up_reason(follow_up_on=D(2018, 5, 8), kind="group_82a",
                                today=D(2018, 5, 9))[1],
        *(danish.outside_target_group_reason(subject=s, age=15, on=D(2018, 4, 3))[1]
          for s in FLAG_SUBJECTS),
    ]
    for text in texts:
        for code in ("employment", "education", "health", "group_82a", "_", "referral"):
            assert code not in text, (code, text)


# --- the setting -----------------------------------------------------------------------------


def test_social_vejlednings_answer_time_is_a_setting() -> None:
    assert IntakeSettings.from_config({}).referral_85_answer_working_days == 10
    settings = IntakeSettings.from_config({"REFERRAL_85_ANSWER_WORKING_DAYS": "5"})
    assert settings.referral_85_answer_working_days == 5
    with pytest.raises(ValueError, match="referral_85_answer_working_days"):
        IntakeSettings(referral_85_answer_working_days=0)
