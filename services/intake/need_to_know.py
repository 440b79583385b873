"""Need-to-know in intake (issue 10): who may see which part of a citizen's data.

Pure: no database. `services.intake.projections` looks up the facts a rule needs (is
the caller the citizen's tovholder? an active team member, from which agency? has the
citizen consented to that agency? does Social Vejledning have a § 85 referral? is the
course on the review panel's agenda?) and asks here.

- **Fronten** sees everything: citizens (the CPR number when asked for, logged as its
  own read), inquiries, consents, courses.
- **Social Vejledning** sees the citizens and the courses it has a § 85 referral for,
  with the CPR number (it is the authority that opens the § 85 case).
- **The review panel** sees the courses on its agenda and their citizen's name.
- **A tovholder** sees the name and contact of the citizens of the open pathways they
  lead.
- **An active team member** sees the citizen's name; the contact too only when the
  citizen consented to their agency (recipient = the agency, purpose pathway_team,
  information kind contact_status). A member from another agency than social services
  with no consent for the pathway team at all (it was withdrawn) sees the first name
  only, as in coordination.
- **Housing officers, operators and partners** see no citizen data (unless a housing
  officer is a team member: membership grants, roles grant, and the widest one counts).
- **Other Samspil services** (`service:*`) are trusted: the broker is the boundary.

A record the caller may not see answers exactly like a missing one (the same
`NotFound`); an action the caller's role never allows is `not_allowed` on `actor`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from contracts.actor import Actor, ActorKind, StaffRole
from contracts.vocabulary import Agency
from services.common.errors import DomainError, NotFound

R = StaffRole
CONTACT_KIND = "contact_status"  # the information kind a consent must cover for contact


class CitizenScope(IntEnum):
    """How much of a citizen the caller sees, least first."""

    NONE = 0
    FIRST_NAME = 1
    NAME = 2
    NAME_AND_CONTACT = 3
    FULL = 4  # name, contact, birth date, age, target group (CPR: see may_see_cpr)


SCOPE_CODES = {
    CitizenScope.FIRST_NAME: "first_name",
    CitizenScope.NAME: "name",
    CitizenScope.NAME_AND_CONTACT: "name_and_contact",
    CitizenScope.FULL: "full",
}


def as_actor(actor: str) -> Actor:
    """The caller as an `Actor`: RPCs pass one; internal callers may pass a label (a
    label has no roles, so it sees nothing a role grants)."""
    if isinstance(actor, Actor):
        return actor
    try:
        return Actor.from_label(str(actor))
    except ValueError:
        return Actor(ActorKind.SERVICE, str(actor))


def is_service(actor: Actor) -> bool:
    return actor.kind is ActorKind.SERVICE


def is_staff(actor: Actor) -> bool:
    return actor.kind is ActorKind.STAFF


@dataclass(frozen=True)
class CitizenFacts:
    """What decides how much of one citizen the caller sees."""

    tovholder: bool = False  # the caller leads an open pathway of the citizen
    # The agencies of the caller's active memberships in the citizen's open pathways.
    member_agencies: frozenset[Agency] = frozenset()
    # The citizen's pathway_team consents valid now: agency -> the kinds they cover.
    consents: Mapping[Agency, frozenset[str]] = field(default_factory=dict)
    referred_85: bool = False  # a course of the citizen has a § 85 referral
    on_agenda: bool = False  # a course of the citizen is on the review panel's agenda


def _member_scope(agency: Agency, consents: Mapping[Agency, frozenset[str]]) -> CitizenScope:
    kinds = consents.get(agency)
    if kinds is not None:
        return CitizenScope.NAME_AND_CONTACT if CONTACT_KIND in kinds else CitizenScope.NAME
    if agency is Agency.SOCIAL_SERVICES:  # the municipality's own: no consent needed
        return CitizenScope.NAME
    return CitizenScope.FIRST_NAME


def citizen_scope(actor: Actor, facts: CitizenFacts) -> CitizenScope:
    """How much of the citizen `actor` sees: the widest of what its roles and its
    memberships grant."""
    if is_service(actor):
        return CitizenScope.FULL
    if not is_staff(actor):  # partners see no citizen data in intake
        return CitizenScope.NONE
    scopes = [CitizenScope.NONE]
    if actor.has_role(R.FRONTEN):
        scopes.append(CitizenScope.FULL)
    if actor.has_role(R.SOCIAL_VEJLEDNING) and facts.referred_85:
        scopes.append(CitizenScope.FULL)
    if actor.has_role(R.REVIEW_PANEL) and facts.on_agenda:
        scopes.append(CitizenScope.NAME)
    if facts.tovholder:
        scopes.append(CitizenScope.NAME_AND_CONTACT)
    scopes.extend(_member_scope(a, facts.consents) for a in facts.member_agencies)
    return max(scopes)


def may_see_cpr(actor: Actor, facts: CitizenFacts) -> bool:
    """The CPR number: Fronten, Social Vejledning for a citizen it has a referral for,
    and services."""
    if is_service(actor):
        return True
    if not is_staff(actor):
        return False
    return actor.has_role(R.FRONTEN) or (
        actor.has_role(R.SOCIAL_VEJLEDNING) and facts.referred_85
    )


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


@dataclass(frozen=True)
class CourseFacts:
    """What decides whether the caller sees one course."""

    referred_85: bool = False  # the course has a § 85 referral (open or decided)
    on_agenda: bool = False  # the course is on the review panel's agenda


def course_visible(actor: Actor, facts: CourseFacts) -> bool:
    if is_service(actor):
        return True
    if not is_staff(actor):
        return False
    return (
        actor.has_role(R.FRONTEN)
        or (actor.has_role(R.SOCIAL_VEJLEDNING) and facts.referred_85)
        or (actor.has_role(R.REVIEW_PANEL) and facts.on_agenda)
    )


# --- role gates: what a role never allows ------------------------------------------------

# Who answers a citizen's request for insight (the access report).
ACCESS_REPORT_ROLES = (R.FRONTEN, R.OPERATOR)
COURSE_READERS = (R.FRONTEN, R.REVIEW_PANEL, R.SOCIAL_VEJLEDNING)
REVIEW_DECIDERS = (R.FRONTEN, R.REVIEW_PANEL)
REFERRAL_85_DECIDERS = (R.FRONTEN, R.SOCIAL_VEJLEDNING)

_WHAT = {
    "fronten": "This is Fronten's work.",
    "course": "Courses are read by Fronten, the review panel and Social Vejledning.",
    "review": "The review panel (or Fronten) decides a course's review.",
    "referral_85": "Social Vejledning (or Fronten) records a § 85 outcome.",
    "access_report": "A citizen's access report is answered by Fronten (or an operator).",
}


def require_role(actor: Actor, roles: tuple[StaffRole, ...], what: str) -> None:
    """Refuse an action the caller's role never allows (services pass). The answer
    depends only on the caller, never on a record, so it reveals nothing."""
    if is_service(actor) or (is_staff(actor) and actor.has_role(*roles)):
        return
    raise DomainError("actor", "not_allowed", _WHAT[what])


def require_fronten(actor: Actor) -> None:
    require_role(actor, (R.FRONTEN,), "fronten")


def citizen_not_found() -> NotFound:
    """The one answer for a citizen that does not exist or that the caller may not see."""
    return NotFound("citizen_ref", "No such citizen.")


def course_not_found() -> NotFound:
    """The one answer for a course that does not exist or that the caller may not see."""
    return NotFound("course_id", "No such course.")
