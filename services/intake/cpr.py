"""CPR numbers (personnummer), age and Fronten's target group.

Pure functions, no I/O, no clock: every "today" is passed in.

A CPR number is validated by its date and by the century rule of its 7th digit
(CPR-kontoret's table). It is deliberately NOT checked with modulus 11: since 2007
numbers are issued that fail it, and they are valid.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import NamedTuple

from services.common.errors import DomainError

# "DDMMYY-SSSS" or "DDMMYYSSSS"; ASCII digits only (str.isdigit would accept "²").
_CPR_PATTERN = re.compile(r"([0-9]{6})-?([0-9]{4})", re.ASCII)

# Below this the CPR space is small enough (~ 4e9 combinations, far fewer real
# numbers) that a weak key would make the lookup hash as good as clear text.
MIN_LOOKUP_KEY_BYTES = 32

TARGET_GROUP_MIN_AGE = 16
PRIORITY_AGE_LIMIT = 30  # the strategy prioritises citizens under 30
DEFAULT_STATE_PENSION_AGE = 67


class AgeBand(NamedTuple):
    """An age band of the statistics: `lowest` to `highest` years, both included."""

    label: str
    lowest: int
    highest: int | None  # None: no upper limit


# The one list of age bands used by the target group and by the statistics.
AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("16-17", 16, 17),
    AgeBand("18-24", 18, 24),
    AgeBand("25-29", 25, 29),
    AgeBand("30-39", 30, 39),
    AgeBand("40-49", 40, 49),
    AgeBand("50-59", 50, 59),
    AgeBand("60+", 60, None),
)
AGE_BAND_LABELS: tuple[str, ...] = tuple(band.label for band in AGE_BANDS)
# Outside the target group at the young end; kept apart so it never hides in "16-17".
BELOW_TARGET_AGE_BAND = "0-15"


@dataclass(frozen=True)
class Cpr:
    """A validated CPR number.

    Build it with `parse_cpr` (the constructor checks nothing). `number` is the
    normalised 10-digit string (no hyphen). The repr hides both
    fields so that a CPR number never lands in a log by accident.
    """

    number: str
    birth_date: dt.date

    def __repr__(self) -> str:
        return "Cpr(******-****)"

    @property
    def formatted(self) -> str:
        """The number as people write it: DDMMYY-SSSS."""
        return f"{self.number[:6]}-{self.number[6:]}"


def century_of(seventh_digit: int, yy: int) -> int:
    """The century (1800, 1900 or 2000) of a CPR birth year, from CPR-kontoret's table.

    7th digit 0-3: 1900s. 4 and 9: 2000s if YY <= 36, else 1900s.
    5-8: 2000s if YY <= 57, else 1800s.
    """
    if not 0 <= seventh_digit <= 9 or not 0 <= yy <= 99:
        raise ValueError("seventh_digit must be 0-9 and yy 0-99")
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def parse_cpr(text: str) -> Cpr:
    """Parse and validate a CPR number written "DDMMYY-SSSS" or as 10 digits.

    Surrounding whitespace is ignored; anything else that is not the two forms is
    refused with rule ``cpr.format``. A date that does not exist in the century
    given by the 7th digit is refused with rule ``cpr.date``. Modulus 11 is not
    checked (see the module docstring).
    """
    match = _CPR_PATTERN.fullmatch(text.strip())
    if match is None:
        raise DomainError(
            "cpr",
            "cpr.format",
            "A CPR number must be 10 digits, written DDMMYY-SSSS or DDMMYYSSSS.",
        )
    number = match.group(1) + match.group(2)
    day, month, yy = int(number[0:2]), int(number[2:4]), int(number[4:6])
    year = century_of(int(number[6]), yy) + yy
    try:
        birth_date = dt.date(year, month, day)
    except ValueError:
        raise DomainError(
            "cpr", "cpr.date", f"The CPR number does not start with a real date (year {year})."
        ) from None
    return Cpr(number=number, birth_date=birth_date)


def cpr_lookup_hash(cpr: Cpr | str, key: bytes) -> str:
    """A keyed hash (HMAC-SHA256, hex) of the normalised CPR number, for exact lookups.

    The database stores this instead of the clear-text number and finds a citizen by
    hashing the number searched for with the same key. Both written forms of a
    number give the same hash. The key must live outside the database: anyone who
    has it can hash every possible CPR number. Changing the key means re-hashing
    every stored row (from the encrypted copy).
    """
    if len(key) < MIN_LOOKUP_KEY_BYTES:
        raise ValueError(f"the lookup key must be at least {MIN_LOOKUP_KEY_BYTES} bytes")
    number = cpr.number if isinstance(cpr, Cpr) else parse_cpr(cpr).number
    return hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`.

    The birthday counts from the birthday itself. Someone born on 29 February
    becomes a year older on 1 March in years that are not leap years.
    """
    if day < birth_date:
        raise DomainError("birth_date", "age.before_birth", "The day is before the birth date.")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def age_band(age: int) -> str:
    """The label of the band in AGE_BANDS that holds `age` (BELOW_TARGET_AGE_BAND under 16)."""
    for band in AGE_BANDS:
        if age >= band.lowest and (band.highest is None or age <= band.highest):
            return band.label
    return BELOW_TARGET_AGE_BAND


@dataclass(frozen=True)
class TargetGroup:
    """Where a citizen stands against Fronten's target group on a given day.

    `in_target_group`: 16 years or older and younger than the state pension age.
    `under_30`: the strategy's priority flag, in the target group AND younger than 30.
    """

    age: int
    in_target_group: bool
    under_30: bool
    age_band: str


def target_group(
    birth_date: dt.date, day: dt.date, state_pension_age: int = DEFAULT_STATE_PENSION_AGE
) -> TargetGroup:
    """Classify a citizen on `day`.

    The state pension age (folkepensionsalder) depends on the birth year and rises
    by law over time; the caller passes the one that applies (67 by default).
    """
    if state_pension_age <= TARGET_GROUP_MIN_AGE:
        raise ValueError("state_pension_age must be above the target group's minimum age")
    age = age_on(birth_date, day)
    in_group = TARGET_GROUP_MIN_AGE <= age < state_pension_age
    return TargetGroup(
        age=age,
        in_target_group=in_group,
        under_30=in_group and age < PRIORITY_AGE_LIMIT,
        age_band=age_band(age),
    )
