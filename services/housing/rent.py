"""Rent (husleje): when it is due, when it is paid on time, and what an arrears amount may be.

Pure functions, no I/O. The working-day arithmetic is `services.common.holidays`;
this module only applies it to the rent rule.

The rule: rent is due on the due date (forfaldsdagen); paid by the 3rd hverdag
(working day) after the due date, it is on time. Weekends, public holidays and the
customary closed days (Grundlovsdag, juleaftensdag, nytårsaftensdag) are not hverdage,
so they move the last on-time day. Only after that may the landlord send a påkrav.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from services.common.errors import DomainError
from services.common.holidays import add_working_days

#: Arrears are stated in kroner and øre: at most two decimal places.
ORE = Decimal("0.01")


@dataclass(frozen=True)
class RentSettings:
    """The limits of the rent rule and of a reported arrears amount (each a setting)."""

    #: Rent paid by this hverdag after the due date is on time (lejeloven: 3rd hverdag).
    on_time_working_days: int = 3
    #: Grundlovsdag, 24 and 31 December count as non-working days for payment deadlines.
    closed_days_are_holidays: bool = True
    #: Larger arrears are refused as absurd: almost surely a typing error (øre as kroner).
    max_amount_dkk: Decimal = Decimal("1000000")
    #: A report may say the tenant is 1..this many months behind.
    max_months_behind: int = 24

    def __post_init__(self) -> None:
        if self.on_time_working_days < 1:
            raise ValueError("on_time_working_days must be at least 1")
        if self.max_amount_dkk <= 0:
            raise ValueError("max_amount_dkk must be positive")
        if self.max_months_behind < 1:
            raise ValueError("max_months_behind must be at least 1")


DEFAULT_RENT_SETTINGS = RentSettings()


def last_on_time_day(due_date: dt.date, settings: RentSettings = DEFAULT_RENT_SETTINGS) -> dt.date:
    """The last day on which rent due on `due_date` is still paid on time.

    That is the `settings.on_time_working_days`-th hverdag after the due date; the due
    date itself never counts, whatever weekday it is.
    """
    return add_working_days(
        due_date,
        settings.on_time_working_days,
        include_closed_days=settings.closed_days_are_holidays,
    )


def is_paid_on_time(
    due_date: dt.date, paid_on: dt.date, settings: RentSettings = DEFAULT_RENT_SETTINGS
) -> bool:
    """True when rent due on `due_date` and paid on `paid_on` is on time (early counts too)."""
    return paid_on <= last_on_time_day(due_date, settings)


def first_late_day(due_date: dt.date, settings: RentSettings = DEFAULT_RENT_SETTINGS) -> dt.date:
    """The first calendar day on which the rent is late (the day after the last on-time day)."""
    return last_on_time_day(due_date, settings) + dt.timedelta(days=1)


def parse_amount_dkk(value: Decimal | int | str, *, field: str = "amount_dkk") -> Decimal:
    """Turn an amount from the wire into a Decimal, refusing floats and non-numbers.

    Floats are refused because binary floating point cannot hold øre exactly; JSON
    producers must send amounts as strings (or integers).
    """
    if isinstance(value, bool | float):
        raise DomainError(
            field, "housing.amount_not_decimal", "Send the amount as a string or an integer."
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise DomainError(
                field, "housing.amount_not_a_number", "The amount is not a number."
            ) from None
    else:
        raise DomainError(field, "housing.amount_not_decimal", "The amount is not a number.")
    if not amount.is_finite():
        raise DomainError(field, "housing.amount_not_a_number", "The amount is not a number.")
    return amount


def validate_arrears_amount(
    amount: Decimal, settings: RentSettings = DEFAULT_RENT_SETTINGS, *, field: str = "amount_dkk"
) -> Decimal:
    """Check an arrears amount in DKK: a finite Decimal, > 0, whole øre, not absurd.

    Returns the amount unchanged. Raises `DomainError` naming `field` and the rule.
    """
    amount = parse_amount_dkk(amount, field=field)
    if amount <= 0:
        raise DomainError(field, "housing.amount_not_positive", "Arrears must be more than 0 kr.")
    if amount > settings.max_amount_dkk:
        raise DomainError(
            field,
            "housing.amount_absurd",
            f"Arrears above {settings.max_amount_dkk} kr. are refused as implausible.",
        )
    if amount != amount.quantize(ORE):
        raise DomainError(
            field, "housing.amount_fractional_ore", "Amounts have at most two decimals (øre)."
        )
    return amount


def validate_months_behind(
    months: int, settings: RentSettings = DEFAULT_RENT_SETTINGS, *, field: str = "months_behind"
) -> int:
    """Check how many months of rent are unpaid: 1..`settings.max_months_behind`."""
    if isinstance(months, bool) or not isinstance(months, int):
        raise DomainError(field, "housing.months_behind_not_integer", "Give whole months.")
    if not 1 <= months <= settings.max_months_behind:
        raise DomainError(
            field,
            "housing.months_behind_out_of_range",
            f"Months behind must be between 1 and {settings.max_months_behind}.",
        )
    return months
