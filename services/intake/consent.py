"""Samtykke (consent): what may be shared about a citizen, with whom, for what.

A consent is specific: one recipient, named kinds of information, one purpose,
given at a time by the citizen (recorded by a staff member) and perhaps withdrawn
later. Pure rules, no I/O and no clock. Notifications enforces consent at the
outbound edge from the ConsentGiven / ConsentWithdrawn events; the service layer
adds the consent id and the citizen_ref when it turns them into outbox messages.

All times must be timezone-aware, so that "before" and "after" mean the same
thing in every service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from contracts.vocabulary import Agency, ConsentPurpose
from services.common.errors import Conflict, DomainError

# The kinds of information a partner can be told. Typed statements only: no
# diagnoses and no free text are ever among them.
INFORMATION_KINDS: frozenset[str] = frozenset(
    {
        "contact_status",  # whether Fronten has contact with the citizen
        "course_status",  # a course started, ended, extended
        "meeting_schedule",  # when and where meetings are
        "housing_case_status",  # the rent-arrears case's step
        "bridging_status",  # brobygning (bridge building) to the partner
        "action_plan",  # the handleplan's actions (not the citizen's own notes)
    }
)


# Who a consent may name (issue 16): an agency, for the members of a pathway team, or a
# partner id from the directory (services.intake.projections keeps it), for the rest.
AGENCIES: tuple[str, ...] = tuple(a.value for a in Agency)


class CorrectionReason(StrEnum):
    """Why a consent must be fixed by a person (Fronten's list "samtykker der skal
    rettes"). The first three are set by migration 0005 on free text that did not map
    unambiguously; the last is decided when the list is read."""

    RECIPIENT_UNKNOWN = "recipient_unknown"
    PURPOSE_UNKNOWN = "purpose_unknown"
    RECIPIENT_AND_PURPOSE_UNKNOWN = "recipient_and_purpose_unknown"
    RECIPIENT_NOT_IN_DIRECTORY = "recipient_not_in_directory"


def recipients_for(purpose: ConsentPurpose, partner_ids: Iterable[str]) -> list[str]:
    """The recipients a consent for `purpose` may name: the agencies for a pathway
    team, otherwise the partners in the directory."""
    if purpose is ConsentPurpose.PATHWAY_TEAM:
        return sorted(AGENCIES)
    return sorted(set(partner_ids))


def check_recipient(recipient: str, purpose: ConsentPurpose, partner_ids: Collection[str]) -> str:
    """The recipient, trimmed, if the vocabulary allows it for `purpose`; otherwise a
    DomainError on `recipient` that lists the allowed values (never the value given)."""
    value = recipient.strip()
    known = set(AGENCIES) | set(partner_ids)
    if value not in known:
        raise DomainError(
            "recipient",
            "consent.recipient_unknown",
            "The recipient is neither a partner in the directory nor an agency. Allowed: "
            + ", ".join(sorted(known)) + ".",
        )
    allowed = recipients_for(purpose, partner_ids)
    if value not in allowed:
        who = "an agency" if purpose is ConsentPurpose.PATHWAY_TEAM else \
            "a partner from the directory"
        raise DomainError(
            "recipient",
            "consent.recipient_not_for_purpose",
            f"A consent for {purpose.value} names {who}. Allowed: "
            + (", ".join(allowed) or "none registered yet") + ".",
        )
    return value


class ConsentForm(StrEnum):
    """How the consent was given."""

    WRITTEN = "written"  # skriftligt
    ORAL = "oral"  # mundtligt, noted by the staff member
    DIGITAL = "digital"  # e.g. signed with MitID


@dataclass(frozen=True)
class ConsentGiven:
    recipient: str
    information_kinds: tuple[str, ...]
    purpose: str
    given_at: dt.datetime
    given_by: str
    form: ConsentForm


@dataclass(frozen=True)
class ConsentWithdrawn:
    recipient: str
    withdrawn_at: dt.datetime
    withdrawn_by: str


ConsentEvent = ConsentGiven | ConsentWithdrawn


def normalise_purpose(purpose: str) -> str:
    """The purpose as compared: surrounding and repeated whitespace removed, case folded."""
    return " ".join(purpose.split()).casefold()


def _require_aware(name: str, moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(name, "consent.time_without_zone", "The time must include a time zone.")


def _parse_form(form: ConsentForm | str) -> ConsentForm:
    try:
        return ConsentForm(form)
    except ValueError:
        raise DomainError(
            "form", "consent.form_unknown", "The form is written, oral or digital."
        ) from None


def _require_not_before_given(withdrawn_at: dt.datetime, given_at: dt.datetime) -> None:
    if withdrawn_at < given_at:
        raise DomainError(
            "withdrawn_at",
            "consent.withdrawn_before_given",
            "A consent cannot be withdrawn before it was given.",
        )


def _require_text(name: str, rule: str, value: str, message: str) -> None:
    if not value or not value.strip():
        raise DomainError(name, rule, message)


@dataclass
class Consent:
    """One samtykke.

    `recipient` is a partner id or an agency name; `given_by` and `withdrawn_by` are
    staff ids (the staff member who recorded the citizen's words). Give a new consent
    with `Consent.give`; the constructor loads a stored one and checks it too.
    """

    recipient: str
    information_kinds: frozenset[str]
    purpose: str
    given_at: dt.datetime
    given_by: str
    form: ConsentForm
    withdrawn_at: dt.datetime | None = None
    withdrawn_by: str | None = None
    events: list[ConsentEvent] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        _require_text(
            "recipient", "consent.recipient_missing", self.recipient, "Name the recipient."
        )
        _require_text("purpose", "consent.purpose_missing", self.purpose, "State the purpose.")
        _require_text("given_by", "consent.given_by_missing", self.given_by, "Who recorded it?")
        self.recipient = self.recipient.strip()
        self.purpose = self.purpose.strip()
        kinds = frozenset(self.information_kinds)
        if not kinds:
            raise DomainError(
                "information_kinds",
                "consent.information_kinds_missing",
                "Name at least one kind of information.",
            )
        unknown = sorted(kinds - INFORMATION_KINDS)
        if unknown:
            raise DomainError(
                "information_kinds",
                "consent.information_kind_unknown",
                f"Unknown kind of information: {', '.join(unknown)}.",
            )
        self.information_kinds = kinds
        self.form = _parse_form(self.form)
        _require_aware("given_at", self.given_at)
        if self.withdrawn_at is not None:
            _require_aware("withdrawn_at", self.withdrawn_at)
            _require_not_before_given(self.withdrawn_at, self.given_at)

    @classmethod
    def give(
        cls,
        recipient: str,
        information_kinds: Iterable[str],
        purpose: str,
        given_at: dt.datetime,
        given_by: str,
        form: ConsentForm | str,
    ) -> Consent:
        """Record a new consent and raise ConsentGiven."""
        consent = cls(
            recipient=recipient,
            information_kinds=frozenset(information_kinds),
            purpose=purpose,
            given_at=given_at,
            given_by=given_by,
            form=_parse_form(form),
        )
        consent.events.append(
            ConsentGiven(
                recipient=consent.recipient,
                information_kinds=tuple(sorted(consent.information_kinds)),
                purpose=consent.purpose,
                given_at=consent.given_at,
                given_by=consent.given_by,
                form=consent.form,
            )
        )
        return consent

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    def withdraw(self, at: dt.datetime, by: str) -> None:
        """Withdraw the consent from `at` on (the citizen may always withdraw).

        Withdrawing twice is a Conflict; a withdrawal before the consent was given is
        refused. A withdrawal at the very moment it was given leaves it covering nothing.
        """
        if self.withdrawn_at is not None:
            raise Conflict(
                "consent", "consent.already_withdrawn", "The consent is already withdrawn."
            )
        _require_aware("withdrawn_at", at)
        _require_text("withdrawn_by", "consent.withdrawn_by_missing", by, "Who recorded it?")
        _require_not_before_given(at, self.given_at)
        self.withdrawn_at, self.withdrawn_by = at, by
        self.events.append(ConsentWithdrawn(self.recipient, at, by))

    def covers(self, recipient: str, information_kind: str, purpose: str, at: dt.datetime) -> bool:
        """Whether this consent allows telling `recipient` `information_kind` for `purpose` at `at`.

        Valid from `given_at` (included) until `withdrawn_at` (excluded). The recipient
        must match exactly (after trimming); the purpose after `normalise_purpose`.
        An unknown information kind is simply not covered.
        """
        _require_aware("at", at)
        if recipient.strip() != self.recipient or information_kind not in self.information_kinds:
            return False
        if normalise_purpose(purpose) != normalise_purpose(self.purpose):
            return False
        return self.given_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)
