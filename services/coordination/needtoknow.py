"""Need-to-know on a pathway (issue 10): who may see what of it, and who may change it.

Pure: no I/O. The use cases load the facts (the pathway's tovholder, the caller's
membership, the citizen's consents to the member's agency) and ask `sight_of`; a
caller without a sight gets the answer a missing pathway gets (`NotFound`, same field,
rule and message), never a hint that the pathway exists.

Who sees a pathway (and everything under it: team, timeline, plans, meetings, network,
housing alerts, hand-offs):
- another Samspil service (`service:*`): what it asks for (services trust each other;
  the broker is the boundary);
- its tovholder (now): everything;
- a team member whose membership has not ended (from its first day, or before it
  starts, until its last day):
  - from social_services (the municipality's social services, which holds the
    pathway): everything;
  - from another agency (jobcenter, school, Upoint, psychiatry, housing, mentor): only
    under a valid consent of the citizen to that agency with purpose pathway_team. That
    consent shows the team and the pathway's own changes; each further section needs
    its kind of information in a consent too (`SECTION_KINDS`). Without one (never
    given, or withdrawn) the member keeps the membership but sees nothing of the
    pathway but that it exists (`restricted`) until consent is given again;
- a coordinator (role coordinator): pathways awaiting a tovholder (open, none
  appointed), in full, to appoint one;
- nobody else: not Fronten, not a former member, not a partner.

Who changes it: the tovholder (and services); a coordinator, while the pathway awaits
its tovholder, gathers the team, appoints the tovholder or closes it; a team member
only marks the status of an action they own (and sees the plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.actor import ActorKind, StaffRole
from contracts.vocabulary import INFORMATION_KINDS, Agency
from services.common.errors import DomainError

ALL_KINDS = frozenset(INFORMATION_KINDS)
# The agency that holds the pathway: its members need no consent.
HOLDING_AGENCY = Agency.SOCIAL_SERVICES
# The consent purpose that lets a team member from another agency see the pathway.
PATHWAY_TEAM = "pathway_team"

# The sections of a pathway and the kind of information each shows.
PLAN = "action_plan"  # the handleplan, its actions, offer referrals
MEETINGS = "meeting_schedule"  # meetings, the citizen's wishes for them, continuity
NETWORK = "contact_status"  # the citizen's network persons and their contact
HOUSING = "housing_case_status"  # rent-arrears cases (housing alerts)
COURSES = "course_status"  # Fronten's inquiries, courses, § 85
BRIDGING = "bridging_status"  # bridging hand-offs to employment, education, health
SECTION_KINDS = {"plan": PLAN, "meetings": MEETINGS, "preferences": MEETINGS,
                 "continuity": MEETINGS, "network": NETWORK, "offer_referrals": PLAN}
# A timeline entry nobody has mapped: only full sight shows it (the safe default).
FULL_ONLY = "full"

# The kind of information each timeline entry shows; None: the pathway's own changes
# (the team, the tovholder, opening and closing), seen with the team.
TIMELINE_KINDS: dict[str, str | None] = {
    "pathway_opened": None, "pathway_closed": None, "member_added": None,
    "membership_ended": None, "tovholder_appointed": None, "tovholder_handed_over": None,
    "network_person_added": NETWORK,
    "citizen_preferences_set": MEETINGS,
    "meeting_scheduled": MEETINGS, "meeting_rescheduled": MEETINGS,
    "meeting_cancelled": MEETINGS, "meeting_held": MEETINGS,
    "plan_version_created": PLAN, "plan_agreed": PLAN, "action_status_changed": PLAN,
    "action_due": PLAN, "action_overdue": PLAN, "offer_referral_requested": PLAN,
    "housing_adviser_for_case": HOUSING,
    # other services' news about the citizen
    "inquiry_registered": COURSES, "inquiry_resolved": COURSES, "pathway_referral": COURSES,
    "course_started": COURSES, "course_extended": COURSES,
    "course_review_decided": COURSES, "course_ended": COURSES,
    "referral_85_decided": COURSES,
    "housing_case_opened": HOUSING, "housing_case_escalated": HOUSING,
    "housing_case_deescalated": HOUSING, "housing_warning_flagged": HOUSING,
    "housing_action_overdue": HOUSING, "housing_case_closed": HOUSING,
}
# Hand-offs by their kind (HandoffKind).
HANDOFF_KINDS = {
    "bridging_employment": BRIDGING, "bridging_education": BRIDGING,
    "bridging_health": BRIDGING, "referral_85": COURSES, "hold_termination": HOUSING,
    "offer_referral": PLAN,
}
HANDOFF_ENTRIES = frozenset({"handoff_updated", "handoff_escalated", "handoff_acknowledged"})


class Standing(StrEnum):
    """Why the caller sees the pathway."""

    SERVICE = "service"
    TOVHOLDER = "tovholder"
    MEMBER = "member"
    COORDINATOR = "coordinator"


class Change(StrEnum):
    """What a command changes on a pathway."""

    TEAM = "team"
    APPOINT = "appoint"
    HANDOVER = "handover"
    CLOSE = "close"
    NETWORK = "network"
    PREFERENCES = "preferences"
    MEETING = "meeting"
    PLAN = "plan"
    ACTION_STATUS = "action_status"
    OFFER_REFERRAL = "offer_referral"
    HANDOFF = "handoff"


# What a coordinator may do while the pathway awaits its tovholder.
COORDINATOR_CHANGES = frozenset({Change.TEAM, Change.APPOINT, Change.CLOSE})


@dataclass(frozen=True)
class Sight:
    """What the caller sees of one pathway.

    `team`: the team, the tovholder and the pathway's own changes (False: restricted,
    nothing but that the pathway exists); `kinds`: the kinds of information shown."""

    standing: Standing
    kinds: frozenset[str]
    team: bool = True

    @property
    def full(self) -> bool:
        return self.team and self.kinds >= ALL_KINDS

    @property
    def restricted(self) -> bool:
        return not self.team

    def sees(self, kind: str | None) -> bool:
        """Whether the caller sees information of `kind` (None: the team itself)."""
        if not self.team:
            return False
        if kind is None:
            return True
        if kind == FULL_ONLY:
            return self.full
        return kind in self.kinds

    def sees_section(self, section: str) -> bool:
        return self.sees(SECTION_KINDS.get(section))

    def sees_entry(self, kind: str, handoff_kind: str | None = None) -> bool:
        """Whether a timeline entry of `kind` is shown (hand-off entries by the
        hand-off's kind)."""
        if kind in HANDOFF_ENTRIES:
            return self.sees(HANDOFF_KINDS.get(handoff_kind or "", FULL_ONLY))
        return self.sees(TIMELINE_KINDS.get(kind, FULL_ONLY))

    def withheld(self) -> list[str]:
        """The sections of the pathway view this caller does not see."""
        return [s for s in ("network", "preferences", "meetings", "continuity", "plan",
                            "offer_referrals") if not self.sees_section(s)]


FULL = frozenset(ALL_KINDS)


def sight_of(
    *,
    kind: ActorKind | str,
    actor_id: str,
    roles: frozenset[StaffRole] = frozenset(),
    tovholder_id: str | None,
    closed: bool,
    member_agency: Agency | str | None,
    consent_kinds: frozenset[str] | None,
) -> Sight | None:
    """The caller's sight of a pathway, or None when it must answer as missing.

    `member_agency`: the agency the caller sits in the team for, when their membership
    has not ended (None: not in the team). `consent_kinds`: the kinds of information
    the citizen's valid pathway_team consents to that agency cover (None: no valid
    consent)."""
    kind = ActorKind(kind)
    if kind is ActorKind.SERVICE:
        return Sight(Standing.SERVICE, FULL)
    if kind is not ActorKind.STAFF:
        return None  # partners never see a pathway
    if tovholder_id is not None and actor_id == tovholder_id:
        return Sight(Standing.TOVHOLDER, FULL)
    if member_agency is not None:
        if Agency(member_agency) is HOLDING_AGENCY:
            return Sight(Standing.MEMBER, FULL)
        if consent_kinds is None:
            return Sight(Standing.MEMBER, frozenset(), team=False)
        return Sight(Standing.MEMBER, frozenset(consent_kinds) & ALL_KINDS)
    if StaffRole.COORDINATOR in roles and tovholder_id is None and not closed:
        return Sight(Standing.COORDINATOR, FULL)
    return None


def may_change(sight: Sight, change: Change, *, owns_action: bool = False) -> bool:
    """Whether the caller with `sight` may make `change` (a coordinator has a sight
    only while the pathway awaits its tovholder)."""
    if sight.standing in (Standing.SERVICE, Standing.TOVHOLDER):
        return True
    if sight.standing is Standing.COORDINATOR:
        return change in COORDINATOR_CHANGES
    return change is Change.ACTION_STATUS and owns_action and sight.sees(PLAN)


REFUSALS = {
    Standing.COORDINATOR: "a coordinator may gather the team, appoint the tovholder or "
                          "close a pathway while it awaits its tovholder; the rest is "
                          "the tovholder's",
    Standing.MEMBER: "only the pathway's tovholder may do this (a team member may mark "
                     "the actions they own)",
}


def require_change(sight: Sight, change: Change, *, owns_action: bool = False) -> None:
    """Refuse a change the caller's standing never allows (the gateway maps it to 400)."""
    if not may_change(sight, change, owns_action=owns_action):
        raise DomainError("actor", "not_allowed",
                          REFUSALS.get(sight.standing, "only the tovholder may do this"))
