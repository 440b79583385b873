"""Citizens (borgere): contact rules and matching. Pure rules, no I/O.

Everyone outside intake knows a citizen only as `citizen_ref`; the CPR number is kept
as described in `services.intake.protection`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.common.errors import DomainError
from services.intake.cpr import Cpr, parse_cpr

CONTACT_CHANNELS = ("email", "sms", "letter")


def name_key(name: str) -> str:
    """The name as compared when matching: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise DomainError("name", "citizen.name_missing", "Write the citizen's name.")
    return cleaned


def clean_address(address: str | None) -> str | None:
    """The citizen's address as free text (e.g. "Hedelyngen 12, st. tv., 2750 Ballerup"),
    spaces collapsed; None clears it. Intake keeps it for home meetings only; letters go
    by Digital Post or to the address in the CPR register."""
    if address is None:
        return None
    cleaned = " ".join(address.split())
    if not cleaned:
        raise DomainError("address", "contact.address_blank", "Write the address, or null.")
    return cleaned


def check_contact(preferred_channel: str, email: str | None, phone: str | None) -> None:
    """The preferred channel must be one the citizen can be reached on.

    E-mail needs an address, SMS a phone number; a letter goes by Digital Post or
    paper to the address in the CPR register (not the free-text `address`).
    """
    if preferred_channel not in CONTACT_CHANNELS:
        raise DomainError(
            "preferred_channel", "contact.channel_unknown", "Choose email, sms or letter."
        )
    if preferred_channel == "email" and not email:
        raise DomainError(
            "email", "contact.email_missing", "E-mail is preferred, so give an e-mail address."
        )
    if preferred_channel == "sms" and not phone:
        raise DomainError(
            "phone", "contact.phone_missing", "SMS is preferred, so give a phone number."
        )


@dataclass(frozen=True)
class MatchCriterion:
    """What `match_citizen` searches by: a CPR number, or a name and a birth date."""

    cpr: Cpr | None
    name_key: str | None
    birth_date: dt.date | None

    def describe(self) -> str:
        """The criterion for the access log; never the CPR number itself."""
        if self.cpr is not None:
            return "cpr: exact match on the lookup hash"
        return f"name and birth date: {self.name_key}, {self.birth_date}"


def match_criterion(
    cpr: str | None, name: str | None, birth_date: dt.date | None
) -> MatchCriterion:
    """A CPR number wins; without one, both name and birth date are needed."""
    if cpr:
        return MatchCriterion(parse_cpr(cpr), None, None)
    if not name or not name.strip() or birth_date is None:
        raise DomainError(
            "cpr",
            "match.criterion_missing",
            "Search by CPR number, or by both name and birth date.",
        )
    return MatchCriterion(None, name_key(name), birth_date)


def unambiguous(candidates: Sequence[uuid.UUID]) -> uuid.UUID | None:
    """The one citizen found, or None when there is none or more than one."""
    distinct = set(candidates)
    return next(iter(distinct)) if len(distinct) == 1 else None
