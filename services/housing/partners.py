"""Housing associations as partners, and what they may be told.

A **boligforening** (housing association; an almen boligorganisation) is a partner:
it reports arrears for the tenancies (lejemål) it owns, organised in **afdelinger**
(departments, the estates). It may report only for its own tenancies.

What a partner may see is decided here, by an explicit allow-list: a typed status,
what we ask of it, the case and tenancy references and dates. Never the citizen's
identity (no citizen_ref, CPR or name), no health or social details, no free text.
Notifications enforces consent at the outbound edge; this is the shape of the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from contracts.vocabulary import PartnerStatus
from services.common.errors import DomainError
from services.housing.ladder import (
    ActionOverdue,
    Addressee,
    ArrearsReported,
    ArrearsReportUpdated,
    CaseClosed,
    CaseFlagged,
    CitizenIdentified,
    ContactEstablished,
    EmergencyHousingPlanMade,
    EscalatedToAssociation,
    EvictionDateSet,
    EvictionResolved,
    HelpAppliedFor,
    HelpGranted,
    HelpRefused,
    HoldAnswered,
    HousingEvent,
    OutreachDue,
    PaymentPlanAgreed,
    PaymentPlanBroken,
    PaymentPlanProposed,
    Request,
    TerminationRegistered,
    TerminationWithdrawn,
)

_CVR = re.compile(r"\d{8}")

# ------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class Department:
    """An afdeling (department, an estate) of a housing association, and its tenancies."""

    number: str
    name: str
    tenancy_refs: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise DomainError(
                "department.number", "housing.department_number_required", "Give the number."
            )
        if any(not ref.strip() for ref in self.tenancy_refs):
            raise DomainError(
                "department.tenancy_refs", "housing.tenancy_ref_required", "Empty tenancy ref."
            )


@dataclass(frozen=True)
class HousingAssociation:
    """A housing association (boligforening): id, name, CVR (optional) and afdelinger."""

    association_id: str
    name: str
    cvr: str | None = None
    departments: tuple[Department, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.association_id.strip():
            raise DomainError(
                "association_id", "housing.association_id_required", "Give the association's id."
            )
        if not self.name.strip():
            raise DomainError("name", "housing.association_name_required", "Give a name.")
        if self.cvr is not None and not _CVR.fullmatch(self.cvr):
            # Eight digits; the modulus-11 check is left to the CVR register itself.
            raise DomainError("cvr", "housing.cvr_invalid", "A CVR number has eight digits.")
        numbers = [d.number for d in self.departments]
        if len(numbers) != len(set(numbers)):
            raise DomainError(
                "departments", "housing.department_duplicated", "Department numbers repeat."
            )
        seen: set[str] = set()
        for department in self.departments:
            if seen & department.tenancy_refs:
                raise DomainError(
                    "tenancy_ref",
                    "housing.tenancy_in_two_departments",
                    "A tenancy belongs to one department.",
                )
            seen |= department.tenancy_refs

    def department_of(self, tenancy_ref: str) -> Department | None:
        """The afdeling owning `tenancy_ref`, or None when this association does not own it."""
        ref = tenancy_ref.strip()
        return next((d for d in self.departments if ref in d.tenancy_refs), None)

    def owns(self, tenancy_ref: str) -> bool:
        return self.department_of(tenancy_ref) is not None


def check_tenancy_ownership(
    association_id: str, tenancy_ref: str, owner_association_id: str | None
) -> None:
    """Refuse a report for a tenancy another association owns.

    `owner_association_id` is who owns the tenancy by the register (None: no one has
    registered it). An unregistered tenancy is accepted: refusing a report on the legal
    clock because a register is incomplete would put the tenant at risk.
    """
    if owner_association_id is not None and owner_association_id != association_id:
        raise DomainError(
            "tenancy_ref",
            "housing.tenancy_owned_by_other_association",
            f"Tenancy {tenancy_ref.strip()} belongs to another housing association.",
        )


# ------------------------------------------------------- what an association may report


class ReportRefusal(StrEnum):
    """Why an association's report was refused: for the audit and the municipality's
    list only. The association itself always gets the same answer
    (`tenancy_not_registered_to_you`), whatever the reason, so a report cannot be used
    to find out whether, or to whom, a tenancy is registered."""

    TENANCY_NOT_REGISTERED = "tenancy_not_registered"  # nobody has registered it
    TENANCY_OF_OTHER_ASSOCIATION = "tenancy_of_other_association"
    CASE_OF_OTHER_ASSOCIATION = "case_of_other_association"  # an open case names another


def partner_report_refusal(
    association_id: str,
    *,
    owner_association_id: str | None,
    open_case_association_id: str | None,
) -> ReportRefusal | None:
    """May the association `association_id` report arrears for a tenancy registered to
    `owner_association_id` (None: to nobody) whose open case, if any, names
    `open_case_association_id`? None: yes.

    **The rule** (also for cases Fronten opened): an association reports, and attaches
    to a case, only through a tenancy registered to it in the municipality's register
    (`register_association`, kept by the operators). A report for a tenancy registered
    to nobody or to another association is refused, as is one for a tenancy whose open
    case names another association. A report is never matched to a case by the tenant
    (CPR number or citizen_ref): only the registered tenancy links it to a case. So an
    association cannot take over a case Fronten opened unless the municipality has
    registered that case's tenancy to it.

    Refusing an unregistered tenancy is safe for the tenant: the association is told
    at once, and the refusal is audited and put on the list the housing officers and
    operators work from, so the municipality registers the tenancy (or opens the case
    itself) instead of the report silently opening a case.
    """
    if owner_association_id is None:
        return ReportRefusal.TENANCY_NOT_REGISTERED
    if owner_association_id != association_id:
        return ReportRefusal.TENANCY_OF_OTHER_ASSOCIATION
    if open_case_association_id is not None and open_case_association_id != association_id:
        return ReportRefusal.CASE_OF_OTHER_ASSOCIATION
    return None


def tenancy_not_registered_to_you() -> DomainError:
    """The one answer to every refused report of an association (see ReportRefusal)."""
    return DomainError(
        "tenancy_ref",
        "housing.tenancy_not_registered_to_association",
        "This tenancy is not registered to your housing association in Samspil, so the "
        "report was not saved. The municipality has been told; ask it to register the "
        "tenancy, then report again.",
    )


class PartnerRegistry:
    """The known housing associations (built by the service from its stored partners)."""

    def __init__(self, associations: Iterable[HousingAssociation]) -> None:
        self._by_id: dict[str, HousingAssociation] = {}
        self._owner: dict[str, str] = {}
        for association in associations:
            if association.association_id in self._by_id:
                raise DomainError(
                    "association_id", "housing.association_duplicated", "Ids must be unique."
                )
            self._by_id[association.association_id] = association
            for department in association.departments:
                for ref in department.tenancy_refs:
                    if ref in self._owner:
                        raise DomainError(
                            "tenancy_ref",
                            "housing.tenancy_owned_by_two_associations",
                            f"Tenancy {ref} is registered by two associations.",
                        )
                    self._owner[ref] = association.association_id

    def get(self, association_id: str) -> HousingAssociation:
        """The association, or DomainError(association_id, housing.unknown_association)."""
        try:
            return self._by_id[association_id]
        except KeyError:
            raise DomainError(
                "association_id",
                "housing.unknown_association",
                "No housing association with this id is registered as a partner.",
            ) from None

    def owner_of(self, tenancy_ref: str) -> HousingAssociation | None:
        owner = self._owner.get(tenancy_ref.strip())
        return self._by_id[owner] if owner is not None else None

    def check_report(self, association_id: str, tenancy_ref: str) -> Department | None:
        """May `association_id` report arrears for `tenancy_ref`?

        Refuses an unknown association and a tenancy another association owns; returns
        the afdeling, or None for a tenancy nobody has registered (accepted, see
        `check_tenancy_ownership`).
        """
        association = self.get(association_id)
        owner = self.owner_of(tenancy_ref)
        check_tenancy_ownership(
            association_id, tenancy_ref, owner.association_id if owner else None
        )
        return association.department_of(tenancy_ref)


# ----------------------------------------------------------------- what partners see



PARTNER_STATUS: frozenset[str] = frozenset(s.value for s in PartnerStatus)

#: The only keys a statement to a housing association may carry. No citizen_ref, no
#: amounts, no reasons, no free text: a new key is a decision, made here.
PARTNER_FIELDS: frozenset[str] = frozenset(
    {
        "status",  # a PartnerStatus value
        "requested",  # a PARTNER_REQUESTS value: what we now ask of the association
        "case_ref",  # our case id (a random id, not the citizen's)
        "association_id",
        "tenancy_ref",  # the association's own reference
        "occurred_on",  # ISO date
        "hold_until",  # ISO date, with hold_termination
        "eviction_date",  # ISO date, the udsættelse date the association already knows
    }
)

#: What may be asked of an association (a subset of ladder.Request).
PARTNER_REQUESTS: frozenset[str] = frozenset(
    {
        Request.FOR_INFORMATION.value,
        Request.HOLD_TERMINATION.value,
        Request.HOLD_EVICTION.value,
        Request.POSTPONE_EVICTION.value,
    }
)

#: Every event meant for the association, with its status. Events missing here are
#: internal (the municipality's own work) and are never addressed to the association.
STATUS_BY_EVENT: dict[type[HousingEvent], PartnerStatus] = {
    ArrearsReported: PartnerStatus.REPORT_RECEIVED,
    ArrearsReportUpdated: PartnerStatus.REPORT_RECEIVED,
    OutreachDue: PartnerStatus.OUTREACH_STARTED,
    ContactEstablished: PartnerStatus.CONTACT_ESTABLISHED,
    PaymentPlanProposed: PartnerStatus.PAYMENT_PLAN_PROPOSED,
    PaymentPlanAgreed: PartnerStatus.PAYMENT_PLAN_AGREED,
    PaymentPlanBroken: PartnerStatus.PAYMENT_PLAN_BROKEN,
    HelpAppliedFor: PartnerStatus.HELP_APPLIED_FOR,
    HelpGranted: PartnerStatus.HELP_GRANTED,
    HelpRefused: PartnerStatus.HELP_NOT_GRANTED,
    EscalatedToAssociation: PartnerStatus.HOLD_TERMINATION_REQUESTED,
    TerminationRegistered: PartnerStatus.HOLD_EVICTION_REQUESTED,
    EvictionDateSet: PartnerStatus.POSTPONE_EVICTION_REQUESTED,
    TerminationWithdrawn: PartnerStatus.TERMINATION_WITHDRAWAL_NOTED,
    EvictionResolved: PartnerStatus.EVICTION_RESOLUTION_NOTED,
    CaseClosed: PartnerStatus.CASE_CLOSED,
}

#: Events the association never sees (asks only of the tovholder or Fronten).
INTERNAL_EVENTS: frozenset[type[HousingEvent]] = frozenset(
    {CitizenIdentified, CaseFlagged, EmergencyHousingPlanMade, ActionOverdue, HoldAnswered}
)


def partner_statement(
    event: HousingEvent, *, timezone: str = "Europe/Copenhagen"
) -> dict[str, str] | None:
    """The statement for the housing association about `event`, or None when the event
    is not addressed to the association (internal events; cases with no association).

    Built field by field from PARTNER_FIELDS: nothing else can leak, whatever the
    event carries. Every value is a typed status/request, a reference or an ISO date.
    """
    if Addressee.ASSOCIATION not in event.addressees or event.association_id is None:
        return None
    status = STATUS_BY_EVENT.get(type(event))
    if status is None:
        # An event addressed to the association must have a status: refuse to improvise one.
        raise ValueError(f"{type(event).__name__} has no partner status")
    requested = next(a.request for a in event.asks if a.addressee is Addressee.ASSOCIATION)
    if requested.value not in PARTNER_REQUESTS:
        raise ValueError(f"{requested} may not be asked of a housing association")
    tz = ZoneInfo(timezone)
    statement: dict[str, str] = {
        "status": status.value,
        "requested": requested.value,
        "case_ref": event.case_id,
        "association_id": event.association_id,
        "occurred_on": event.occurred_at.astimezone(tz).date().isoformat(),
    }
    if event.tenancy_ref is not None:
        statement["tenancy_ref"] = event.tenancy_ref
    if event.hold_until is not None and requested is Request.HOLD_TERMINATION:
        statement["hold_until"] = event.hold_until.isoformat()
    if isinstance(event, EvictionDateSet):
        statement["eviction_date"] = event.eviction_date.isoformat()
    assert statement.keys() <= PARTNER_FIELDS
    return statement


def partner_statements(
    events: Iterable[HousingEvent], *, timezone: str = "Europe/Copenhagen"
) -> list[dict[str, str]]:
    """The statements for the association from a batch of events, in order."""
    out: list[dict[str, str]] = []
    for event in events:
        statement = partner_statement(event, timezone=timezone)
        if statement is not None:
            out.append(statement)
    return out
