"""The rent rule: paid by the 3rd hverdag after the due date is on time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import DomainError
from services.common.holidays import is_working_day
from services.housing.rent import (
    RentSettings,
    first_late_day,
    is_paid_on_time,
    last_on_time_day,
    parse_amount_dkk,
    validate_arrears_amount,
    validate_months_behind,
)

D = dt.date


@pytest.mark.parametrize(
    ("due", "last", "why"),
    [
        (D(2025, 8, 5), D(2025, 8, 8), "Tuesday: Wed, Thu, Fri"),
        (D(2025, 8, 1), D(2025, 8, 6), "Friday: the weekend does not count"),
        (D(2025, 3, 1), D(2025, 3, 5), "Saturday due date: it never counts itself"),
        (D(2026, 4, 1), D(2026, 4, 9), "before Easter 2026: skærtorsdag to 2. påskedag"),
        (D(2025, 4, 16), D(2025, 4, 24), "Easter 2025, due the day before skærtorsdag"),
        (D(2025, 12, 23), D(2026, 1, 2), "Christmas: 24-26 Dec, 31 Dec and 1 Jan"),
        (D(2026, 1, 1), D(2026, 1, 6), "due on nytårsdag"),
        (D(2025, 6, 3), D(2025, 6, 10), "Grundlovsdag and 2. pinsedag 2025"),
        (D(2023, 5, 3), D(2023, 5, 9), "store bededag 2023 was still a holiday"),
        (D(2024, 4, 24), D(2024, 4, 29), "store bededag abolished from 2024"),
    ],
)
def test_last_on_time_day(due: dt.date, last: dt.date, why: str) -> None:
    assert last_on_time_day(due) == last, why
    assert is_paid_on_time(due, last)
    assert not is_paid_on_time(due, last + dt.timedelta(days=1))
    assert first_late_day(due) == last + dt.timedelta(days=1)


def test_paid_early_or_on_the_due_date_is_on_time() -> None:
    assert is_paid_on_time(D(2025, 8, 1), D(2025, 7, 25))
    assert is_paid_on_time(D(2025, 8, 1), D(2025, 8, 1))


def test_friday_due_date_paid_on_the_monday_and_on_the_thursday() -> None:
    due = D(2025, 8, 1)  # a Friday
    assert is_paid_on_time(due, D(2025, 8, 4))
    assert not is_paid_on_time(due, D(2025, 8, 7))


def test_closed_days_are_a_setting() -> None:
    # Without Grundlovsdag, 24 and 31 December as closed days, Christmas is shorter.
    settings = RentSettings(closed_days_are_holidays=False)
    assert last_on_time_day(D(2025, 12, 23), settings) == D(2025, 12, 30)


def test_number_of_working_days_is_a_setting() -> None:
    assert last_on_time_day(D(2025, 8, 1), RentSettings(on_time_working_days=1)) == D(2025, 8, 4)


@given(st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)))
def test_last_on_time_day_is_the_third_working_day_after(due: dt.date) -> None:
    last = last_on_time_day(due)
    assert is_working_day(last)
    between = [due + dt.timedelta(days=i) for i in range(1, (last - due).days + 1)]
    assert sum(is_working_day(day) for day in between) == 3


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        (Decimal("-1"), "housing.amount_not_positive"),
        (Decimal("0"), "housing.amount_not_positive"),
        (Decimal("1000000.01"), "housing.amount_absurd"),
        (Decimal("1E+9"), "housing.amount_absurd"),
        (Decimal("100.005"), "housing.amount_fractional_ore"),
        (Decimal("NaN"), "housing.amount_not_a_number"),
        (Decimal("Infinity"), "housing.amount_not_a_number"),
        (12.5, "housing.amount_not_decimal"),
        (True, "housing.amount_not_decimal"),
        ("twelve", "housing.amount_not_a_number"),
    ],
)
def test_bad_amounts_are_refused_with_field_and_rule(amount: object, rule: str) -> None:
    with pytest.raises(DomainError) as refused:
        validate_arrears_amount(amount)  # type: ignore[arg-type]
    assert refused.value.field == "amount_dkk"
    assert refused.value.rule == rule


def test_good_amounts() -> None:
    assert validate_arrears_amount(Decimal("0.01")) == Decimal("0.01")
    assert validate_arrears_amount(Decimal("1000000")) == Decimal("1000000")
    assert parse_amount_dkk("12500.50") == Decimal("12500.50")
    assert parse_amount_dkk(7) == Decimal(7)


def test_absurd_limit_is_a_setting() -> None:
    settings = RentSettings(max_amount_dkk=Decimal("50000"))
    with pytest.raises(DomainError, match="amount_absurd"):
        validate_arrears_amount(Decimal("50000.01"), settings)


@pytest.mark.parametrize("months", [0, -1, 25])
def test_months_behind_out_of_range(months: int) -> None:
    with pytest.raises(DomainError) as refused:
        validate_months_behind(months)
    assert (refused.value.field, refused.value.rule) == (
        "months_behind",
        "housing.months_behind_out_of_range",
    )


def test_months_behind_in_range_and_a_setting() -> None:
    assert validate_months_behind(1) == 1
    assert validate_months_behind(24) == 24
    with pytest.raises(DomainError):
        validate_months_behind(4, RentSettings(max_months_behind=3))
