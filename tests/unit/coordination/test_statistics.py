"""Pathway statistics: the period's window, the referral-to-tovholder arithmetic, and
the continuity definition (docs/coordination.md), on hand-made records."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import DomainError
from services.coordination.statistics import (
    HeldMeeting,
    PathwayRecord,
    continuity,
    render_danish,
    report,
    waiting_for_tovholder,
    window,
)

UTC = dt.UTC
JAN1 = dt.date(2021, 1, 1)
JAN31 = dt.date(2021, 1, 31)
# Copenhagen is UTC+1 in January: 1 January starts at 2020-12-31 23:00 UTC.
START = dt.datetime(2020, 12, 31, 23, 0, tzinfo=UTC)
END = dt.datetime(2021, 1, 31, 23, 0, tzinfo=UTC)


def at(day: int, hour: int = 12, month: int = 1) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, tzinfo=UTC)


def pathway(pid: str, opened: dt.datetime, *, closed: dt.datetime | None = None,
            referred: dt.datetime | None = None, first: dt.datetime | None = None,
            under_30: bool | None = None) -> PathwayRecord:
    return PathwayRecord(pid, opened, closed, referred, first, under_30)


def meeting(pid: str, mid: str, starts: dt.datetime, tovholder: str | None, *,
            tovholder_present: bool = True, citizen_present: bool = True) -> HeldMeeting:
    return HeldMeeting(pid, mid, starts, tovholder, tovholder_present, citizen_present)


def test_the_window_is_copenhagen_days_both_included():
    win = window(JAN1, JAN31)
    assert (win.start, win.end) == (START, END)
    assert START in win and END - dt.timedelta(microseconds=1) in win
    assert END not in win and START - dt.timedelta(microseconds=1) not in win


def test_a_reversed_period_is_refused_naming_the_field():
    with pytest.raises(DomainError) as error:
        window(JAN31, JAN1)
    assert (error.value.field, error.value.rule) == ("period_end", "statistics.period_reversed")


def test_active_opened_and_closed_count_overlap_with_the_period():
    records = [
        pathway("before-and-during", at(1, month=12) - dt.timedelta(days=400)),
        pathway("closed-before", at(1, month=12) - dt.timedelta(days=400),
                closed=START - dt.timedelta(seconds=1)),
        pathway("closed-on-the-first-morning", START - dt.timedelta(days=3),
                closed=START + dt.timedelta(hours=1), under_30=True),
        pathway("opened-in", at(10), under_30=True),
        pathway("opened-after", END),
    ]
    result = report(JAN1, JAN31, pathways=records, meetings=[], agreements=[], handovers=[])
    assert result.active_pathways == 3
    assert result.active_under_30 == 2
    assert (result.opened, result.closed) == (1, 1)


def test_referral_to_tovholder_median_and_mean_in_days():
    records = [
        pathway("a", at(1), referred=at(1), first=at(2)),  # 1 day
        pathway("b", at(3), referred=at(3), first=at(6)),  # 3 days
        pathway("c", at(4), referred=at(4), first=at(12)),  # 8 days
        pathway("d", at(5), referred=at(5), first=at(5, 18)),  # 0.25 day
        # Appointed after the period: not in this period's figures, but waiting at its end.
        pathway("e", at(20), referred=at(20), first=at(3, month=2)),
        # Opened by staff with a tovholder: no referral, no waiting time.
        pathway("f", at(6), first=at(6)),
        # Referred, never appointed, closed in the period: not waiting at its end.
        pathway("g", at(7), referred=at(7), closed=at(9)),
    ]
    waiting = waiting_for_tovholder(records, window(JAN1, JAN31))
    assert waiting.appointed == 4
    assert waiting.median_days == 2.0  # (1 + 3) / 2
    assert waiting.mean_days == 3.1  # (1 + 3 + 8 + 0.25) / 4 = 3.0625
    assert waiting.still_waiting == 1


def test_no_appointment_gives_no_average_rather_than_zero():
    waiting = waiting_for_tovholder([pathway("a", at(1), referred=at(1))], window(JAN1, JAN31))
    assert (waiting.appointed, waiting.median_days, waiting.mean_days) == (0, None, None)
    assert waiting.still_waiting == 1


def test_continuity_is_the_share_of_meetings_with_the_same_tovholder():
    meetings = [
        # Pathway 1: the same tovholder throughout; her first meeting counts.
        meeting("p1", "1", at(5), "mette"),
        meeting("p1", "2", at(12), "mette"),
        # Pathway 2: a meeting before the period with Mette, then Ulla took over.
        meeting("p2", "0", at(20, month=12) - dt.timedelta(days=365), "mette"),
        meeting("p2", "3", at(7), "ulla"),  # a new face: not the same tovholder
        meeting("p2", "4", at(14), "ulla"),  # Ulla again: the same
        # Pathway 3: the tovholder did not come.
        meeting("p3", "5", at(8), "lars", tovholder_present=False),
        meeting("p3", "6", at(15), "lars", citizen_present=False),
        # After the period: ignored.
        meeting("p1", "7", at(2, month=2), "mette"),
    ]
    figure = continuity(meetings, window(JAN1, JAN31))
    # In the period: 1, 2, 3, 4, 5, 6 = 6 held; same tovholder: 1, 2, 4, 6 (6 follows a
    # meeting whose tovholder of the day was Lars too).
    assert figure.held_meetings == 6
    assert figure.same_tovholder == 4
    assert figure.share == pytest.approx(4 / 6, abs=1e-4)
    # The citizen with the tovholder of the day (a new face counts): 1, 2, 3, 4.
    assert figure.with_citizen_and_tovholder == 4


def test_continuity_without_held_meetings_is_none_not_zero():
    figure = continuity([], window(JAN1, JAN31))
    assert (figure.held_meetings, figure.share) == (0, None)


def test_report_counts_meetings_agreements_and_handovers_in_the_period():
    records = [pathway("p1", at(1), referred=at(1), first=at(3), under_30=True)]
    meetings = [meeting("p1", "1", at(5), "mette"), meeting("p1", "2", at(5, month=2), "mette")]
    result = report(JAN1, JAN31, pathways=records, meetings=meetings,
                    agreements=[at(5), at(20), at(1, month=2)],
                    handovers=[START - dt.timedelta(seconds=1), at(25)])
    assert result.meetings_held == 1
    assert result.plans_agreed == 2
    assert result.tovholder_changes == 1
    text = render_danish(result)
    assert "1. januar 2021 til 31. januar 2021" in text
    assert "Aktive forløb: 1 (heraf 1 for borgere under 30 år)" in text
    assert "median 2,0 dage" in text
    assert "Kontinuitet: 100 %" in text
    assert "Tovholderskift: 1" in text
