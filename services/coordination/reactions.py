"""coordination's reactions to other services' events (its message map's use cases).

- intake's news about a citizen goes on the timeline of the citizen's pathway, even
  before a pathway exists (`CitizenActivity`); a referral opens a pathway awaiting
  its tovholder;
- housing's news about a rent-arrears case goes on the timeline too, and into the
  housing-alert read model that the tovholder's list is built on; an escalation or a
  warning for a citizen with an open pathway is passed on to the tovholder
  (`coordination.housing_escalation_noted`, `coordination.housing_warning_noted`); a
  de-escalation moves the alert down the ladder (nobody is asked to act);
- intake's consents are kept (`consents`), for need-to-know: what a team member from
  another agency may see (services.coordination.needtoknow);
- partners' directory is kept (`partners`: names, who takes offer referrals), and
  partners' news about a hand-off of a citizen with an open pathway goes on the
  timeline and into the hand-off read model behind the tovholder's list of hand-offs
  needing attention (services.coordination.handoffs).

Each handler runs in the unit of work of one delivery (the kit claims the message in
the inbox and commits), so a redelivered message changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.vocabulary import Addressee
from services.common.db import UnitOfWork
from services.coordination import handlers, handoffs, housing_alerts, repository
from services.coordination.handoffs import HandoffNews
from services.coordination.housing_alerts import CaseNews, CaseState
from services.coordination.models import (
    CitizenActivity,
    ConsentKindRow,
    ConsentRow,
    HandoffRow,
    HousingAlertRow,
    PartnerRow,
)


def _activity(
    uow: UnitOfWork, event: Envelope, citizen_ref: uuid.UUID, kind: str, at: dt.datetime,
    **details: Any,
) -> None:
    uow.session.add(CitizenActivity(citizen_ref=citizen_ref, kind=kind, occurred_at=at,
                                    source_message_id=event.message_id, details=details))


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


# --- intake ------------------------------------------------------------------------------


def record_inquiry(uow: UnitOfWork, event: Envelope) -> None:
    """An inquiry at Fronten goes on the citizen's timeline (anonymous ones cannot)."""
    payload = event.payload
    if payload["citizen_ref"] is None:
        return
    _activity(uow, event, payload["citizen_ref"], "inquiry_registered", payload["registered_at"],
              inquiry_id=str(payload["inquiry_id"]), channel=payload["channel"].value,
              topics=[t.value for t in payload["topics"]])


def record_inquiry_resolved(uow: UnitOfWork, event: Envelope) -> None:
    """How Fronten answered the inquiry (advice, a course, a referral...)."""
    p = event.payload
    if p["citizen_ref"] is None:
        return
    _activity(uow, event, p["citizen_ref"], "inquiry_resolved", p["resolved_at"],
              inquiry_id=str(p["inquiry_id"]), outcome=p["outcome"].value)


def on_pathway_referral(uow: UnitOfWork, event: Envelope) -> None:
    """Fronten referred a citizen: open a pathway awaiting its tovholder (on the
    coordinators' list, under-30s first), unless the citizen has one open already
    (then the referral is only on the timeline)."""
    payload = event.payload
    citizen_ref = payload["citizen_ref"]
    _activity(uow, event, citizen_ref, "pathway_referral", payload["referred_at"],
              inquiry_id=str(payload["inquiry_id"]), topics=[t.value for t in payload["topics"]],
              under_30=payload["under_30"], referred_by=payload["referred_by"])
    if repository.open_pathway_of(uow.session, citizen_ref) is not None:
        return
    handlers.open_awaiting_tovholder(
        uow, citizen_ref, payload["referred_by"], referral_inquiry_id=payload["inquiry_id"],
        referred_at=payload["referred_at"], under_30=payload["under_30"])


def record_course_started(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    _activity(uow, event, p["citizen_ref"], "course_started", event.occurred_at,
              course_id=str(p["course_id"]), course_kind=p["kind"].value,
              start_date=p["start_date"].isoformat(), planned_end=p["planned_end"].isoformat())


def record_course_extended(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    _activity(uow, event, p["citizen_ref"], "course_extended", event.occurred_at,
              course_id=str(p["course_id"]),
              previous_planned_end=p["previous_planned_end"].isoformat(),
              planned_end=p["planned_end"].isoformat())


def record_course_review_decided(uow: UnitOfWork, event: Envelope) -> None:
    """The tværgående udvalg's decision on the course's planned end."""
    p = event.payload
    _activity(uow, event, p["citizen_ref"], "course_review_decided", event.occurred_at,
              course_id=str(p["course_id"]), decision=p["decision"],
              decided_on=p["decided_on"].isoformat(), planned_end=p["planned_end"].isoformat())


def record_course_ended(uow: UnitOfWork, event: Envelope) -> None:
    p = event.payload
    _activity(uow, event, p["citizen_ref"], "course_ended", event.occurred_at,
              course_id=str(p["course_id"]), course_kind=p["kind"].value, reason=p["reason"],
              ended_on=p["ended_on"].isoformat())


def record_referral_85_decided(uow: UnitOfWork, event: Envelope) -> None:
    """Social Vejledning's decision on a § 85 referral."""
    p = event.payload
    _activity(uow, event, p["citizen_ref"], "referral_85_decided", event.occurred_at,
              course_id=str(p["course_id"]), outcome=p["outcome"],
              decided_on=p["decided_on"].isoformat())


# --- housing -------------------------------------------------------------------------------


def _tovholder_requests(payload: dict[str, Any]) -> list[Any]:
    return [a["request"] for a in payload.get("asks", ())
            if a["addressee"] is Addressee.TOVHOLDER]


def _news(kind: str, p: dict[str, Any]) -> CaseNews:
    """A housing event as the alert read model needs it."""
    if kind == housing_alerts.CLOSED:
        return CaseNews(kind=kind, occurred_at=p["closed_at"], closure=p["closure"].value,
                        association_id=p.get("association_id"))
    return CaseNews(
        kind=kind, occurred_at=p["occurred_at"], level=p["level"].value,
        next_deadline=p["next_deadline"],
        requests=tuple(r.value for r in _tovholder_requests(p)),
        association_id=p.get("association_id"), flag=p.get("flag"),
        pakrav_deadline=p.get("pakrav_deadline"), deadline_kind=p.get("deadline_kind"),
    )


def _state_of(row: HousingAlertRow) -> CaseState:
    return CaseState(
        level=row.level, next_deadline=row.next_deadline, state_at=row.state_at,
        requests=tuple(row.requests), last_event=row.last_event,
        association_id=row.association_id, flags=tuple(row.flags),
        pakrav_deadline=row.pakrav_deadline, overdue_kind=row.overdue_kind,
        overdue_at=row.overdue_at, closed_at=row.closed_at, closure=row.closure,
        moved_at=row.moved_at,
    )


def _update_alert(uow: UnitOfWork, citizen_ref: uuid.UUID, case_id: uuid.UUID,
                  news: CaseNews) -> CaseState:
    """Fold the news into the case's alert row (created on the first news)."""
    row = uow.session.get(HousingAlertRow, case_id, with_for_update=True)
    state = housing_alerts.merge(None if row is None else _state_of(row), news)
    now = uow.clock.now()
    values = {
        "citizen_ref": citizen_ref, "association_id": state.association_id,
        "level": state.level, "next_deadline": state.next_deadline, "state_at": state.state_at,
        "flags": list(state.flags), "pakrav_deadline": state.pakrav_deadline,
        "overdue_kind": state.overdue_kind, "overdue_at": state.overdue_at,
        "moved_at": state.moved_at,
        "requests": list(state.requests), "last_event": state.last_event,
        "priority": housing_alerts.priority(state),
        "sort_deadline": housing_alerts.sort_deadline(state),
        "closed_at": state.closed_at, "closure": state.closure, "updated_at": now,
    }
    if row is None:
        uow.session.add(HousingAlertRow(case_id=case_id, first_seen_at=now, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    uow.session.flush()
    return state


def on_housing_case_opened(uow: UnitOfWork, event: Envelope) -> None:
    """A rent-arrears case was opened: on the timeline and the tovholder's alerts."""
    p = event.payload
    if p["citizen_ref"] is None:
        return  # the tenant is not identified yet; a later event will carry the citizen
    _activity(uow, event, p["citizen_ref"], "housing_case_opened", p["occurred_at"],
              case_id=str(p["case_id"]), level=p["level"].value, source=p["source"],
              next_deadline=_iso(p["next_deadline"]))
    _update_alert(uow, p["citizen_ref"], p["case_id"], _news(housing_alerts.OPENED, p))


def on_housing_case_escalated(uow: UnitOfWork, event: Envelope) -> None:
    """On the citizen's timeline and alerts; with an open pathway, also in front of its
    tovholder (`coordination.housing_escalation_noted`)."""
    p = event.payload
    citizen_ref = p["citizen_ref"]
    if citizen_ref is None:
        return  # the tenant is not identified yet: nothing to attach it to
    requests = _tovholder_requests(p)
    _activity(uow, event, citizen_ref, "housing_case_escalated", p["occurred_at"],
              case_id=str(p["case_id"]), level=p["level"].value,
              previous_level=p["previous_level"].value if p["previous_level"] else None,
              next_deadline=_iso(p["next_deadline"]), requests=[r.value for r in requests])
    _update_alert(uow, citizen_ref, p["case_id"], _news(housing_alerts.ESCALATED, p))
    row = repository.open_pathway_of(uow.session, citizen_ref)
    if row is None:
        return
    tovholder = repository.current_tovholder(uow.session, row.id)
    uow.add_event(
        "coordination.housing_escalation_noted",
        {"pathway_id": row.id, "citizen_ref": citizen_ref, "case_id": p["case_id"],
         "level": p["level"], "next_deadline": p["next_deadline"], "requests": requests,
         "tovholder_id": tovholder, "noted_at": uow.clock.now(),
         "tovholder_email": repository.staff_email(uow.session, tovholder)},
        correlation_id=str(row.id),
    )


def on_housing_case_deescalated(uow: UnitOfWork, event: Envelope) -> None:
    """The case moved down the ladder (e.g. a payment plan was agreed): on the timeline
    and the alerts, which follow the level; nobody is asked to act, so the tovholder is
    not told apart."""
    p = event.payload
    citizen_ref = p["citizen_ref"]
    if citizen_ref is None:
        return
    _activity(uow, event, citizen_ref, "housing_case_deescalated", p["occurred_at"],
              case_id=str(p["case_id"]), level=p["level"].value,
              previous_level=p["previous_level"].value if p["previous_level"] else None,
              next_deadline=_iso(p["next_deadline"]),
              requests=[r.value for r in _tovholder_requests(p)])
    _update_alert(uow, citizen_ref, p["case_id"], _news(housing_alerts.DEESCALATED, p))


def on_housing_warning_flagged(uow: UnitOfWork, event: Envelope) -> None:
    """A warning on a case (e.g. help would come after the påkrav deadline): on the
    timeline and the alerts, first on the list; with an open pathway, the tovholder is
    told at once (`coordination.housing_warning_noted`, mailed by notifications)."""
    p = event.payload
    citizen_ref = p["citizen_ref"]
    if citizen_ref is None:
        return
    _activity(uow, event, citizen_ref, "housing_warning_flagged", p["occurred_at"],
              case_id=str(p["case_id"]), flag=p["flag"], level=p["level"].value,
              pakrav_deadline=_iso(p["pakrav_deadline"]), next_deadline=_iso(p["next_deadline"]))
    _update_alert(uow, citizen_ref, p["case_id"], _news(housing_alerts.WARNING, p))
    row = repository.open_pathway_of(uow.session, citizen_ref)
    if row is None:
        return
    tovholder = repository.current_tovholder(uow.session, row.id)
    uow.add_event(
        "coordination.housing_warning_noted",
        {"pathway_id": row.id, "citizen_ref": citizen_ref, "case_id": p["case_id"],
         "tovholder_id": tovholder,
         "tovholder_email": repository.staff_email(uow.session, tovholder),
         "flag": p["flag"], "level": p["level"], "pakrav_deadline": p["pakrav_deadline"],
         "next_deadline": p["next_deadline"], "noted_at": uow.clock.now()},
        correlation_id=str(row.id),
    )


def on_housing_action_overdue(uow: UnitOfWork, event: Envelope) -> None:
    """A housing deadline passed with its action outstanding: on the timeline, and the
    case moves up the tovholder's alerts (notifications mails the housing officers)."""
    p = event.payload
    if p["citizen_ref"] is None:
        return
    _activity(uow, event, p["citizen_ref"], "housing_action_overdue", p["occurred_at"],
              case_id=str(p["case_id"]), deadline_kind=p["deadline_kind"],
              level=p["level"].value,
              requests=[r.value for r in _tovholder_requests(p)])
    _update_alert(uow, p["citizen_ref"], p["case_id"], _news(housing_alerts.OVERDUE, p))


def record_housing_case_closed(uow: UnitOfWork, event: Envelope) -> None:
    """The case is closed: on the timeline, and off the tovholder's alerts."""
    p = event.payload
    if p["citizen_ref"] is None:
        return
    _activity(uow, event, p["citizen_ref"], "housing_case_closed", p["closed_at"],
              case_id=str(p["case_id"]), closure=p["closure"].value)
    _update_alert(uow, p["citizen_ref"], p["case_id"], _news(housing_alerts.CLOSED, p))


# --- intake's consents (need-to-know) -------------------------------------------------------


def record_consent_given(uow: UnitOfWork, event: Envelope) -> None:
    """A consent of the citizen: kept with the kinds of information it covers. A
    withdrawal that came first keeps it withdrawn."""
    p = event.payload
    row = uow.session.get(ConsentRow, p["consent_id"], with_for_update=True)
    if row is None:
        row = ConsentRow(consent_id=p["consent_id"], citizen_ref=p["citizen_ref"],
                         recipient=str(p["recipient"]))
        uow.session.add(row)
    row.citizen_ref, row.recipient = p["citizen_ref"], str(p["recipient"])
    row.purpose = str(getattr(p["purpose"], "value", p["purpose"]))
    row.given_at = p["given_at"]
    uow.session.flush()
    known = set(uow.session.scalars(
        select(ConsentKindRow.kind).where(ConsentKindRow.consent_id == row.consent_id)))
    for kind in sorted(set(map(str, p["information_kinds"])) - known):
        uow.session.add(ConsentKindRow(consent_id=row.consent_id, kind=kind))


def record_consent_withdrawn(uow: UnitOfWork, event: Envelope) -> None:
    """The citizen withdrew a consent: from now on it covers nothing. Team members who
    saw the pathway under it keep their membership and see nothing of it until the
    citizen consents again."""
    p = event.payload
    row = uow.session.get(ConsentRow, p["consent_id"], with_for_update=True)
    if row is None:  # the withdrawal overtook the consent
        uow.session.add(ConsentRow(consent_id=p["consent_id"], citizen_ref=p["citizen_ref"],
                                   recipient=str(p["recipient"]),
                                   withdrawn_at=p["withdrawn_at"]))
        return
    if row.withdrawn_at is None or p["withdrawn_at"] < row.withdrawn_at:
        row.withdrawn_at = p["withdrawn_at"]


# --- partners: the directory and hand-offs -------------------------------------------------


def record_partner(uow: UnitOfWork, event: Envelope) -> None:
    """A partner was registered or changed: its name and what it takes (the newest
    change wins, whatever order the events arrive in)."""
    p = event.payload
    values = {"name": p["name"], "category": str(getattr(p["category"], "value",
                                                         p["category"])),
              "accepts": [str(getattr(a, "value", a)) for a in p["accepts"]],
              "active": bool(p["active"]), "changed_at": p["changed_at"]}
    row = uow.session.get(PartnerRow, p["partner_id"], with_for_update=True)
    if row is None:
        uow.session.add(PartnerRow(partner_id=p["partner_id"], **values))
    elif p["changed_at"] >= row.changed_at:
        for name, value in values.items():
            setattr(row, name, value)


def _code(value: Any) -> Any:
    return getattr(value, "value", value)


def _fold_handoff(uow: UnitOfWork, handoff_id: uuid.UUID, citizen_ref: uuid.UUID,
                  news: HandoffNews) -> None:
    row = uow.session.get(HandoffRow, handoff_id, with_for_update=True)
    state = handoffs.merge(None if row is None else repository.handoff_of(row), news)
    values = repository.handoff_values(state)
    now = uow.clock.now()
    if row is None:
        uow.session.add(HandoffRow(handoff_id=handoff_id, citizen_ref=citizen_ref,
                                   updated_at=now, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    uow.session.flush()


def on_handoff_updated(uow: UnitOfWork, event: Envelope) -> None:
    """A hand-off of a citizen with an open pathway changed state (the partner received,
    accepted, declined or completed it; or it was cancelled): on the timeline, and a
    declined one on the tovholder's list. Hand-offs of citizens without an open pathway
    are not coordination's business."""
    p = event.payload
    if p["citizen_ref"] is None or repository.open_pathway_of(uow.session,
                                                              p["citizen_ref"]) is None:
        return
    kind, state = _code(p["kind"]), _code(p["state"])
    previous = _code(p["previous_state"])
    _activity(uow, event, p["citizen_ref"], "handoff_updated", p["at"],
              handoff_id=str(p["handoff_id"]), handoff_kind=kind, partner_id=p["partner_id"],
              subject_type=_code(p["subject_type"]), subject_id=str(p["subject_id"]), state=state,
              previous_state=previous, reason=p["reason"], outcome=p["outcome"],
              hold_until=_iso(p["hold_until"]), title=p["title"],
              answered_by=p["answered_by"])
    _fold_handoff(uow, p["handoff_id"], p["citizen_ref"], HandoffNews(
        kind=handoffs.UPDATED, at=p["at"], handoff_kind=kind, partner_id=p["partner_id"],
        subject_type=_code(p["subject_type"]), subject_id=str(p["subject_id"]), state=state,
        reason=p["reason"], outcome=p["outcome"], hold_until=p["hold_until"],
        title=p["title"], answered_by=p["answered_by"]))


def on_handoff_escalated(uow: UnitOfWork, event: Envelope) -> None:
    """A hand-off of a citizen with an open pathway was not answered in time: on the
    timeline, and on the tovholder's list until the partner answers."""
    p = event.payload
    if p["citizen_ref"] is None or repository.open_pathway_of(uow.session,
                                                              p["citizen_ref"]) is None:
        return
    kind = _code(p["kind"])
    _activity(uow, event, p["citizen_ref"], "handoff_escalated", p["escalated_at"],
              handoff_id=str(p["handoff_id"]), handoff_kind=kind, partner_id=p["partner_id"],
              subject_type=_code(p["subject_type"]), subject_id=str(p["subject_id"]),
              requested_at=_iso(p["requested_at"]), answer_by=_iso(p["answer_by"]))
    _fold_handoff(uow, p["handoff_id"], p["citizen_ref"], HandoffNews(
        kind=handoffs.ESCALATED, at=p["escalated_at"], handoff_kind=kind,
        partner_id=p["partner_id"], subject_type=_code(p["subject_type"]),
        subject_id=str(p["subject_id"]), requested_at=p["requested_at"],
        answer_by=p["answer_by"]))
