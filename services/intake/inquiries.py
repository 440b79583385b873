"""Inquiries (henvendelser): the first contact with Fronten. Pure rules, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.errors import Conflict, DomainError


@dataclass(frozen=True)
class NewInquiry:
    id: uuid.UUID
    registered_at: dt.datetime
    channel: Channel
    inquirer_kind: InquirerKind
    topics: tuple[Topic, ...]
    wish: str
    citizen_ref: uuid.UUID | None

    @property
    def anonymous(self) -> bool:
        """Anonymous advice (anonym rådgivning): no identity is recorded."""
        return self.citizen_ref is None


def register_inquiry(
    *,
    channel: Channel,
    inquirer_kind: InquirerKind,
    topics: list[Topic],
    wish: str,
    citizen_ref: uuid.UUID | None,
    registered_at: dt.datetime,
    now: dt.datetime,
) -> NewInquiry:
    """Register a contact. `wish` is the citizen's own words for what should change;
    Fronten asks no prior assessment (ingen visitation), so little else is required."""
    if not wish.strip():
        raise DomainError("wish", "inquiry.wish_missing", "Write what the citizen wants to change.")
    if registered_at > now + dt.timedelta(minutes=5):
        raise DomainError(
            "registered_at", "inquiry.in_future", "An inquiry cannot be registered in the future."
        )
    unique_topics = tuple(dict.fromkeys(topics))
    return NewInquiry(
        id=uuid.uuid4(),
        registered_at=registered_at,
        channel=channel,
        inquirer_kind=inquirer_kind,
        topics=unique_topics,
        wish=wish.strip(),
        citizen_ref=citizen_ref,
    )


# Outcomes that lead to a course, and the course each one starts.
COURSE_OUTCOMES: dict[CourseKind, Outcome] = {
    CourseKind.GROUP_82A: Outcome.GROUP_COURSE_82A,
    CourseKind.SFT: Outcome.SOCIAL_SKILLS_TRAINING,
    CourseKind.INDIVIDUAL_82B: Outcome.INDIVIDUAL_COURSE_82B,
}
# Outcomes that need to know who the citizen is (anonymous advice cannot have them).
OUTCOMES_NEEDING_IDENTITY: frozenset[Outcome] = frozenset(
    {*COURSE_OUTCOMES.values(), Outcome.REFERRAL_85, Outcome.REFERRAL_PATHWAY}
)


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    resolved_at: dt.datetime
    conversations: int | None


def resolve_inquiry(
    *,
    current_outcome: Outcome | None,
    registered_at: dt.datetime,
    citizen_ref: uuid.UUID | None,
    outcome: Outcome,
    resolved_at: dt.datetime,
    conversations: int | None,
    now: dt.datetime,
) -> Resolution:
    """Resolve an inquiry with an outcome (udfald), once.

    Advice only may take one or more conversations. A course, a § 85 referral or a
    referral to a sammenhængende borgerforløb needs an identified citizen: anonymous
    advice (no citizen_ref) can only end as advice or a referral to another offer.
    """
    if current_outcome is not None:
        raise Conflict(
            "inquiry_id", "inquiry.already_resolved", "The inquiry is already resolved."
        )
    if outcome in OUTCOMES_NEEDING_IDENTITY and citizen_ref is None:
        raise DomainError(
            "outcome",
            "inquiry.outcome_needs_citizen",
            "Anonymous advice can end as advice or a referral to another offer only: "
            "register who the citizen is first.",
        )
    if resolved_at < registered_at:
        raise DomainError(
            "resolved_at",
            "inquiry.resolved_before_registered",
            "Resolved before it was registered.",
        )
    if resolved_at > now + dt.timedelta(minutes=5):
        raise DomainError(
            "resolved_at", "inquiry.in_future", "An inquiry cannot be resolved in the future."
        )
    return Resolution(outcome=outcome, resolved_at=resolved_at, conversations=conversations)


def check_course_for_inquiry(
    kind: CourseKind, citizen_ref: uuid.UUID | None, outcome: Outcome | None
) -> None:
    """A course starts from an inquiry with an identified citizen, whose outcome (if
    already set) is that course."""
    if citizen_ref is None:
        raise DomainError(
            "inquiry_id",
            "course.anonymous_inquiry",
            "Anonymous advice cannot become a course: register who the citizen is first.",
        )
    if outcome is not None and outcome != COURSE_OUTCOMES[kind]:
        raise DomainError(
            "kind",
            "course.outcome_mismatch",
            f"The inquiry was resolved as '{outcome}', not as this course.",
        )
