"""The report per housing association and period."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import DomainError
from services.housing.ladder import ArrearsCase, ArrearsReport, Level, ReportSource
from services.housing.partners import HousingAssociation
from services.housing.reports import ReportPeriod, association_report

CPH = ZoneInfo("Europe/Copenhagen")
D = dt.date
BF = HousingAssociation("bf-ballerup", "Ballerup Boligforening")
MARCH = ReportPeriod(D(2025, 3, 1), D(2025, 3, 31))
APRIL = ReportPeriod(D(2025, 4, 1), D(2025, 4, 30))


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=CPH)


def new_case(case_id: str, now: dt.datetime, association_id: str = "bf-ballerup") -> ArrearsCase:
    """A report without påkrav: the outreach deadline is 14 days after the report."""
    return ArrearsCase.open(
        case_id=case_id,
        report=ArrearsReport(
            source=ReportSource.ASSOCIATION,
            association_id=association_id,
            tenancy_ref=f"T-{case_id}",
            citizen_ref=f"citizen-{case_id}",
            amount_dkk=Decimal("9000"),
            months_behind=1,
        ),
        now=now,
        has_tovholder=False,
    )


def cases() -> list[ArrearsCase]:
    a = new_case("a", at(3, 5))
    a.establish_contact(at(3, 7))  # 2 days

    b = new_case("b", at(3, 10))
    b.escalate_if_due(at(3, 24))  # no contact in 14 days
    b.establish_contact(at(3, 26))  # 16 days
    b.agree_payment_plan(at(3, 27))
    b.record_paid_in_full(at(3, 28))  # avoided in March

    c = new_case("c", at(3, 20))
    c.register_termination(at(3, 25))
    c.establish_contact(at(4, 2))  # after March: not counted for March
    c.set_eviction_date(at(4, 3), D(2025, 4, 20))  # April: March still says termination
    c.resolve_eviction(at(4, 10))
    c.withdraw_termination(at(4, 11))
    c.record_paid_in_full(at(4, 12))  # avoided in April

    d = new_case("d", at(2, 20))  # reported in February
    d.escalate_if_due(at(3, 6))
    d.record_paid_in_full(at(3, 15))  # avoided in March, though not in March's cohort

    e = new_case("e", at(3, 12))
    e.record_paid_in_full(at(3, 14))  # paid before any escalation: not "avoided"

    # 23:30 on 31 March in Ballerup, given in UTC: a March case.
    g = new_case("g", dt.datetime(2025, 3, 31, 21, 30, tzinfo=dt.UTC))
    h = new_case("h", at(4, 1, 0))  # the first instant of April
    other = new_case("x", at(3, 6), association_id="bf-other")
    other.establish_contact(at(3, 6, 11))
    return [a, b, c, d, e, g, h, other]


def test_march_report() -> None:
    report = association_report(BF, cases(), MARCH)
    assert report.cases == 5  # a, b, c, e, g
    assert report.levels_reached == {
        Level.REPORTED: 0,
        Level.OUTREACH_DUE: 3,  # a, e, g
        Level.ESCALATED_TO_ASSOCIATION: 1,  # b
        Level.TERMINATION_URGENT: 1,  # c, by the end of March
        Level.EVICTION_EMERGENCY: 0,
    }
    assert report.evictions_avoided == 2  # b and d
    assert report.cases_with_contact == 2  # a and b by 31 March
    assert report.cases_without_contact == 3
    assert report.median_time_to_first_contact == dt.timedelta(days=9)
    assert report.max_time_to_first_contact == dt.timedelta(days=16)


def test_april_report() -> None:
    report = association_report(BF, cases(), APRIL)
    assert report.cases == 1  # h
    assert report.levels_reached[Level.OUTREACH_DUE] == 1
    assert report.evictions_avoided == 1  # c, after an udsættelse date
    assert report.median_time_to_first_contact is None
    assert report.max_time_to_first_contact is None
    assert report.cases_without_contact == 1


def test_a_period_report_does_not_change_when_cases_move_on_later() -> None:
    history = cases()
    before = association_report(BF, history, MARCH)
    history[6].escalate_if_due(at(5, 1))  # g escalates in April
    assert association_report(BF, history, MARCH) == before


def test_median_of_an_odd_number_of_waits() -> None:
    first = new_case("1", at(3, 3))
    first.establish_contact(at(3, 4))
    second = new_case("2", at(3, 3))
    second.establish_contact(at(3, 6))
    third = new_case("3", at(3, 3))
    third.establish_contact(at(3, 13))
    report = association_report(BF, [first, second, third], MARCH)
    assert report.median_time_to_first_contact == dt.timedelta(days=3)
    assert report.max_time_to_first_contact == dt.timedelta(days=10)


def test_empty_period() -> None:
    report = association_report(BF, [], MARCH)
    assert report.cases == 0
    assert set(report.levels_reached) == set(Level)
    assert sum(report.levels_reached.values()) == 0
    assert report.evictions_avoided == 0


def test_as_dict_is_json_safe() -> None:
    data = association_report(BF, cases(), MARCH).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["levels_reached"]["escalated_to_association"] == 1
    assert data["median_seconds_to_first_contact"] == 9 * 24 * 3600
    assert data["period"] == {"start": "2025-03-01", "end": "2025-03-31"}


def test_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        ReportPeriod(D(2025, 3, 31), D(2025, 3, 1))
    assert (refused.value.field, refused.value.rule) == (
        "period.end",
        "report.period_end_before_start",
    )


def test_single_day_period() -> None:
    report = association_report(BF, cases(), ReportPeriod(D(2025, 3, 31), D(2025, 3, 31)))
    assert report.cases == 1  # g
