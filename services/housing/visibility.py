"""Need-to-know for arrears cases (issue 10): who may see and change which case.

Pure: no database. The service looks up the facts a rule needs (is the actor the
citizen's tovholder? which association holds the case?) and asks here.

- **Housing officers and Fronten** see and change every case: the officers follow the
  cases, Fronten owns the cases of citizens without a tovholder.
- **A tovholder** sees and changes the cases of the citizens whose tovholder they are
  (an open pathway, from coordination's events); any other case does not exist for them.
- **A housing association** (a partner) sees only its own association's cases, and only
  their status (`contracts.housing.PARTNER_CASE_FIELDS`); it reports arrears for the
  tenancies registered to it, and changes nothing else.
- **Other Samspil services** (`service:*`) are trusted: the broker is the boundary.
- **Everyone else** (operators, the review panel, Social Vejledning, ...) sees no case.

A case the actor may not see answers exactly like a missing one (`case_not_found`);
an action the actor's role never allows is `not_allowed` on the field `actor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.actor import Actor, ActorKind, StaffRole
from services.common.errors import DomainError, NotFound


class Reach(StrEnum):
    """How far an actor's view of the cases reaches."""

    ALL = "all"  # every case
    OWN_CITIZENS = "own_citizens"  # the cases of the citizens the actor is tovholder of
    OWN_ASSOCIATION = "own_association"  # the cases of the actor's own association
    NONE = "none"


#: Roles that see (and change) every case.
ALL_CASES = frozenset({StaffRole.HOUSING_OFFICER, StaffRole.FRONTEN})
#: Roles that answer a citizen's request for insight (the access report).
ACCESS_REPORT_ROLES = frozenset({StaffRole.FRONTEN, StaffRole.OPERATOR})
#: Roles that read the audit of refused reports (operators keep the tenancy register).
REFUSED_REPORT_READERS = frozenset({StaffRole.HOUSING_OFFICER, StaffRole.OPERATOR})


def as_actor(actor: str) -> Actor:
    """The caller as an `Actor`: RPCs pass one; internal callers may pass a label."""
    if isinstance(actor, Actor):
        return actor
    try:
        return Actor.from_label(str(actor))
    except ValueError:
        return Actor(ActorKind.SERVICE, str(actor))


def partner_of(actor: Actor) -> str | None:
    """The association a partner actor acts for (None for anyone else)."""
    if actor.kind is not ActorKind.PARTNER:
        return None
    return actor.partner_id or actor.id


def reach(actor: Actor) -> Reach:
    """How far the actor sees: every case, its citizens', its association's, or none."""
    if actor.kind is ActorKind.SERVICE:
        return Reach.ALL
    if actor.kind is ActorKind.PARTNER:
        return Reach.OWN_ASSOCIATION
    if actor.has_role(*ALL_CASES):
        return Reach.ALL
    if actor.has_role(StaffRole.TOVHOLDER):
        return Reach.OWN_CITIZENS
    return Reach.NONE


@dataclass(frozen=True)
class CaseFacts:
    """What need-to-know decides on: who holds the case, and is the actor the
    tovholder of its citizen."""

    association_id: str | None
    actor_is_tovholder: bool


def may_see(actor: Actor, case: CaseFacts) -> bool:
    """May `actor` see this case at all?"""
    match reach(actor):
        case Reach.ALL:
            return True
        case Reach.OWN_CITIZENS:
            return case.actor_is_tovholder
        case Reach.OWN_ASSOCIATION:
            return case.association_id is not None and case.association_id == partner_of(actor)
    return False


def case_not_found() -> NotFound:
    """The one answer for a missing case and for one the caller may not see."""
    return NotFound("case_id", "No arrears case with this id.")


def not_allowed(message: str) -> DomainError:
    return DomainError("actor", "not_allowed", message)


def check_may_change_cases(actor: Actor) -> None:
    """Only the municipality changes a case: officers, Fronten and tovholdere (their
    own citizens' cases; checked per case), and other services."""
    if reach(actor) in (Reach.ALL, Reach.OWN_CITIZENS):
        return
    raise not_allowed("Only the municipality's housing officers, Fronten and the "
                      "citizen's tovholder change an arrears case.")


def check_may_report(actor: Actor) -> None:
    """Arrears are reported by an association (for its own tenancies), by Fronten, by a
    housing officer, or by another service (the fogedret's notices arrive that way)."""
    if actor.kind in (ActorKind.SERVICE, ActorKind.PARTNER) or actor.has_role(*ALL_CASES):
        return
    raise not_allowed("Arrears are reported by the housing association, Fronten or a "
                      "housing officer.")


def check_may_read_worklist(actor: Actor) -> None:
    """The officers' list of all cases: housing officers, Fronten, services."""
    if reach(actor) is Reach.ALL:
        return
    raise not_allowed("The worklist of arrears cases is for the housing officers and "
                      "Fronten.")


def check_is_partner(actor: Actor) -> str:
    """The association's own list is for the association: its id."""
    association = partner_of(actor)
    if association is None:
        raise not_allowed("This list is a housing association's own list of its cases.")
    return association


def check_may_read_access_report(actor: Actor) -> None:
    if actor.kind is ActorKind.SERVICE or actor.has_role(*ACCESS_REPORT_ROLES):
        return
    raise not_allowed("A citizen's access report is answered by Fronten (or an operator).")


def check_may_read_refused_reports(actor: Actor) -> None:
    if actor.kind is ActorKind.SERVICE or actor.has_role(*REFUSED_REPORT_READERS):
        return
    raise not_allowed("Refused reports are for the housing officers and the operators.")


def check_may_read_association_report(actor: Actor, association_id: str) -> bool:
    """The report per association: staff who follow the cases and operators read every
    association's; an association only its own. Returns False when the caller is an
    association asking about another one (answered like an unknown association)."""
    if actor.kind is ActorKind.SERVICE:
        return True
    if actor.kind is ActorKind.PARTNER:
        return partner_of(actor) == association_id
    if actor.has_role(*ALL_CASES, StaffRole.OPERATOR):
        return True
    raise not_allowed("The association report is for Fronten, the housing officers and "
                      "the operators.")
