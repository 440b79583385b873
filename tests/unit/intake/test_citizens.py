"""Contact rules and matching of citizens."""

import datetime as dt
import uuid

import pytest

from services.common.errors import DomainError
from services.intake.citizens import (
    check_contact,
    clean_address,
    clean_name,
    match_criterion,
    name_key,
    unambiguous,
)


def test_name_key_ignores_case_and_spacing() -> None:
    assert name_key("  Mikkel   HANSEN ") == name_key("mikkel hansen") == "mikkel hansen"
    assert name_key("Søren Ærø") == "søren ærø"


def test_clean_name_collapses_spaces_and_refuses_blank() -> None:
    assert clean_name(" Anne  Marie ") == "Anne Marie"
    with pytest.raises(DomainError) as err:
        clean_name("   ")
    assert err.value.rule == "citizen.name_missing"


@pytest.mark.parametrize(
    ("channel", "email", "phone", "field", "rule"),
    [
        ("email", None, "+4520304050", "email", "contact.email_missing"),
        ("sms", "a@example.dk", None, "phone", "contact.phone_missing"),
        ("fax", "a@example.dk", "1", "preferred_channel", "contact.channel_unknown"),
    ],
)
def test_the_preferred_channel_must_reach_the_citizen(channel, email, phone, field, rule) -> None:
    with pytest.raises(DomainError) as err:
        check_contact(channel, email, phone)
    assert (err.value.field, err.value.rule) == (field, rule)


@pytest.mark.parametrize(
    ("channel", "email", "phone"),
    [("email", "a@example.dk", None), ("sms", None, "+4520304050"), ("letter", None, None)],
)
def test_reachable_channels_are_accepted(channel, email, phone) -> None:
    check_contact(channel, email, phone)


def test_a_cpr_number_wins_and_is_never_described_in_clear() -> None:
    criterion = match_criterion("010203-4562", "Navn", dt.date(2003, 2, 1))
    assert criterion.cpr is not None and criterion.name_key is None
    assert "0102" not in criterion.describe()
    assert criterion.describe() == "cpr: exact match on the lookup hash"


def test_without_cpr_both_name_and_birth_date_are_needed() -> None:
    criterion = match_criterion(None, " Mikkel  Hansen", dt.date(2003, 2, 1))
    assert criterion.describe() == "name and birth date: mikkel hansen, 2003-02-01"
    for name, birth in (("Mikkel", None), (None, dt.date(2003, 2, 1)), ("  ", dt.date(2003, 2, 1))):
        with pytest.raises(DomainError) as err:
            match_criterion(None, name, birth)
        assert (err.value.field, err.value.rule) == ("cpr", "match.criterion_missing")


def test_an_invalid_cpr_number_is_refused_by_its_rule() -> None:
    with pytest.raises(DomainError) as err:
        match_criterion("310290-1234", None, None)
    assert (err.value.field, err.value.rule) == ("cpr", "cpr.date")


def test_only_one_candidate_is_a_match() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert unambiguous([]) is None
    assert unambiguous([a]) == a
    assert unambiguous([a, a]) == a
    assert unambiguous([a, b]) is None


def test_an_address_is_free_text_with_spaces_tidied() -> None:
    assert clean_address("  Hedelyngen 12,\tst. tv.,  2750 Ballerup ") == (
        "Hedelyngen 12, st. tv., 2750 Ballerup")
    assert clean_address(None) is None
    with pytest.raises(DomainError) as error:
        clean_address("   ")
    assert (error.value.field, error.value.rule) == ("address", "contact.address_blank")
