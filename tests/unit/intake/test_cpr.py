import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import DomainError
from services.intake.cpr import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    BELOW_TARGET_AGE_BAND,
    age_band,
    age_on,
    century_of,
    cpr_lookup_hash,
    parse_cpr,
    target_group,
)

KEY = b"k" * 32


def mod11_holds(number: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(number, weights, strict=True)) % 11 == 0


# --- the century table, at every boundary -----------------------------------------


@pytest.mark.parametrize(
    ("text", "born"),
    [
        # 7th digit 0-3: always 1900s
        ("010100-0000", dt.date(1900, 1, 1)),
        ("311299-3999", dt.date(1999, 12, 31)),
        ("150536-2123", dt.date(1936, 5, 15)),
        ("150558-1123", dt.date(1958, 5, 15)),
        # 4: 2000s up to YY 36, then 1900s
        ("010100-4000", dt.date(2000, 1, 1)),
        ("311236-4111", dt.date(2036, 12, 31)),
        ("010137-4111", dt.date(1937, 1, 1)),
        ("311299-4111", dt.date(1999, 12, 31)),
        # 9: the same as 4
        ("311236-9111", dt.date(2036, 12, 31)),
        ("010137-9111", dt.date(1937, 1, 1)),
        # 5-8: 2000s up to YY 57, then 1800s
        ("311257-5111", dt.date(2057, 12, 31)),
        ("010158-5111", dt.date(1858, 1, 1)),
        ("311257-8111", dt.date(2057, 12, 31)),
        ("010158-8111", dt.date(1858, 1, 1)),
        ("010136-6111", dt.date(2036, 1, 1)),
        ("010137-7111", dt.date(2037, 1, 1)),
    ],
)
def test_century_from_the_seventh_digit(text: str, born: dt.date) -> None:
    assert parse_cpr(text).birth_date == born


def test_century_table_rejects_digits_out_of_range() -> None:
    with pytest.raises(ValueError, match="seventh_digit"):
        century_of(10, 0)


@pytest.mark.parametrize(
    ("text", "born"),
    [
        ("290200-4111", dt.date(2000, 2, 29)),  # 2000 is a leap year (divisible by 400)
        ("290200-5111", dt.date(2000, 2, 29)),
        ("290296-1111", dt.date(1996, 2, 29)),
        ("290260-5111", dt.date(1860, 2, 29)),
        ("290256-7111", dt.date(2056, 2, 29)),
    ],
)
def test_29_february_in_leap_years_is_valid(text: str, born: dt.date) -> None:
    assert parse_cpr(text).birth_date == born


@pytest.mark.parametrize(
    "text",
    [
        "290200-0111",  # 1900 is not a leap year (divisible by 100, not by 400)
        "290200-3111",
        "290237-4111",  # 1937
        "290297-1111",
        "290258-5111",  # 1858
        "290257-5111",  # 2057
    ],
)
def test_29_february_outside_leap_years_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_cpr(text)
    assert (error.value.field, error.value.rule) == ("cpr", "cpr.date")


@pytest.mark.parametrize("text", ["320190-1234", "001090-1234", "011390-1234", "310490-1234"])
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_cpr(text)
    assert error.value.rule == "cpr.date"


@pytest.mark.parametrize("text", ["0101901234", "010190-1235", "070761-4286"])
def test_numbers_that_fail_modulus_11_are_valid(text: str) -> None:
    cpr = parse_cpr(text)
    assert not mod11_holds(cpr.number)  # the vector really fails modulus 11
    assert cpr.number == text.replace("-", "")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "010190-123",
        "010190-12345",
        "01019012345",
        "010190 1234",
        "010190--1234",
        "01-01-90-1234",
        "01019O-1234",  # letter O
        "0101901234x",
        "١٢٣٤٥٦٧٨٩٠",  # Arabic-Indic digits: isdigit() would say yes
        "０１０１９０１２３４",  # full-width digits
        "010190/1234",
    ],
)
def test_malformed_input_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as error:
        parse_cpr(text)
    assert (error.value.field, error.value.rule) == ("cpr", "cpr.format")
    assert error.value.message


def test_both_written_forms_normalise_to_ten_digits() -> None:
    with_hyphen, without = parse_cpr(" 010190-1234 "), parse_cpr("0101901234")
    assert with_hyphen == without
    assert with_hyphen.number == "0101901234"
    assert with_hyphen.formatted == "010190-1234"


def test_repr_and_str_never_show_the_number() -> None:
    cpr = parse_cpr("010190-1234")
    assert "0101" not in repr(cpr)
    assert "1234" not in str(cpr)
    assert "1990" not in repr(cpr)


@st.composite
def birth_dates_with_a_fitting_seventh_digit(draw: st.DrawFn) -> tuple[dt.date, int]:
    born = draw(st.dates(dt.date(1858, 1, 1), dt.date(2057, 12, 31)))
    yy = born.year % 100
    fitting = [d for d in range(10) if century_of(d, yy) + yy == born.year]
    assert fitting, f"no 7th digit gives {born.year}"
    return born, draw(st.sampled_from(fitting))


@given(birth_dates_with_a_fitting_seventh_digit(), st.integers(0, 999))
def test_every_date_the_table_covers_parses_back(
    born_and_digit: tuple[dt.date, int], serial: int
) -> None:
    born, seventh = born_and_digit
    text = f"{born:%d%m}{born.year % 100:02d}-{seventh}{serial:03d}"
    assert parse_cpr(text).birth_date == born


# --- the lookup hash ---------------------------------------------------------------


def test_lookup_hash_is_hmac_sha256_of_the_normalised_number() -> None:
    expected = hmac.new(KEY, b"0101901234", hashlib.sha256).hexdigest()
    assert cpr_lookup_hash("010190-1234", KEY) == expected
    assert cpr_lookup_hash("0101901234", KEY) == expected
    assert cpr_lookup_hash(parse_cpr("0101901234"), KEY) == expected
    assert "0101901234" not in expected


def test_lookup_hash_depends_on_key_and_number() -> None:
    assert cpr_lookup_hash("0101901234", KEY) != cpr_lookup_hash("0101901234", b"x" * 32)
    assert cpr_lookup_hash("0101901234", KEY) != cpr_lookup_hash("0101901235", KEY)


def test_lookup_hash_refuses_a_short_key_and_a_malformed_number() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        cpr_lookup_hash("0101901234", b"short")
    with pytest.raises(DomainError):
        cpr_lookup_hash("not a cpr", KEY)


# --- age and target group ------------------------------------------------------------


def test_age_counts_from_the_birthday_itself() -> None:
    born = dt.date(1990, 6, 15)
    assert age_on(born, dt.date(2020, 6, 14)) == 29
    assert age_on(born, dt.date(2020, 6, 15)) == 30
    assert age_on(born, born) == 0


def test_a_29_february_child_ages_on_1_march_in_common_years() -> None:
    born = dt.date(2000, 2, 29)
    assert age_on(born, dt.date(2001, 2, 28)) == 0
    assert age_on(born, dt.date(2001, 3, 1)) == 1
    assert age_on(born, dt.date(2004, 2, 28)) == 3
    assert age_on(born, dt.date(2004, 2, 29)) == 4


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(DomainError) as error:
        age_on(dt.date(2000, 1, 2), dt.date(2000, 1, 1))
    assert error.value.rule == "age.before_birth"


@pytest.mark.parametrize(
    ("day", "in_group", "under_30", "band"),
    [
        (dt.date(2016, 3, 9), False, False, BELOW_TARGET_AGE_BAND),  # day before 16
        (dt.date(2016, 3, 10), True, True, "16-17"),  # 16th birthday
        (dt.date(2018, 3, 10), True, True, "18-24"),
        (dt.date(2030, 3, 9), True, True, "25-29"),  # day before 30
        (dt.date(2030, 3, 10), True, False, "30-39"),  # 30th birthday
        (dt.date(2067, 3, 9), True, False, "60+"),  # day before 67
        (dt.date(2067, 3, 10), False, False, "60+"),  # state pension age
    ],
)
def test_target_group_at_its_boundaries(
    day: dt.date, in_group: bool, under_30: bool, band: str
) -> None:
    group = target_group(dt.date(2000, 3, 10), day)
    assert (group.in_target_group, group.under_30, group.age_band) == (in_group, under_30, band)


def test_state_pension_age_is_a_parameter() -> None:
    born = dt.date(1970, 1, 1)
    assert not target_group(born, dt.date(2037, 1, 1)).in_target_group
    assert target_group(born, dt.date(2037, 1, 1), state_pension_age=68).in_target_group
    with pytest.raises(ValueError):
        target_group(born, dt.date(2037, 1, 1), state_pension_age=16)


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (15, "0-15"),
        (16, "16-17"),
        (17, "16-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-29"),
        (29, "25-29"),
        (30, "30-39"),
        (39, "30-39"),
        (40, "40-49"),
        (49, "40-49"),
        (50, "50-59"),
        (59, "50-59"),
        (60, "60+"),
        (104, "60+"),
    ],
)
def test_age_bands(age: int, band: str) -> None:
    assert age_band(age) == band


def test_age_bands_cover_every_age_from_16_exactly_once() -> None:
    assert AGE_BAND_LABELS == ("16-17", "18-24", "25-29", "30-39", "40-49", "50-59", "60+")
    for age in range(16, 130):
        holding = [
            b for b in AGE_BANDS if b.lowest <= age and (b.highest is None or age <= b.highest)
        ]
        assert len(holding) == 1, age
