"""Loading and saving intake's aggregates (Course, Consent) to and from their rows."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.vocabulary import CourseKind, PartnerKind
from services.common.errors import NotFound
from services.intake.consent import Consent, ConsentForm
from services.intake.courses import (
    Attendance,
    Course,
    CourseStatus,
    EndingDecision,
    EndingProposal,
    EndReason,
    Plan,
    Referral85,
    ReferralOutcome,
    Review,
    ReviewDecision,
)
from services.intake.models import (
    AttendanceRow,
    ConsentRow,
    CourseResponsibleRow,
    CourseRow,
    EndingProposalRow,
    Referral85Row,
)
from services.intake.need_to_know import course_not_found
from services.intake.settings import settings_from_json, settings_to_json


@dataclass(frozen=True)
class Responsible:
    """A course's responsible staff member: the known face, with a work contact."""

    staff_id: str
    name: str
    email: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Responsible:
        return cls(
            staff_id=str(data["staff_id"]).strip(),
            name=" ".join(str(data["name"]).split()),
            email=data.get("email") or None,
            phone=data.get("phone") or None,
        )

    def to_wire(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "name": self.name, "email": self.email,
                "phone": self.phone}


def responsible_of(row: CourseRow) -> Responsible:
    return Responsible(row.responsible_staff_id, row.responsible_name,
                       row.responsible_email, row.responsible_phone)


def set_responsible(
    session: Session, row: CourseRow, responsible: Responsible, *, by: str, at: dt.datetime,
    note: str | None = None,
) -> None:
    """Make `responsible` the course's responsible staff member from `at`: the current
    term ends (with the handover note) and a new one starts."""
    current = session.scalars(
        select(CourseResponsibleRow).where(
            CourseResponsibleRow.course_id == row.id, CourseResponsibleRow.until.is_(None)
        )
    ).all()
    for term in current:
        term.until, term.handover_note = at, note
    row.responsible_staff_id = responsible.staff_id
    row.responsible_name = responsible.name
    row.responsible_email = responsible.email
    row.responsible_phone = responsible.phone
    session.add(CourseResponsibleRow(
        course_id=row.id, staff_id=responsible.staff_id, name=responsible.name,
        email=responsible.email, phone=responsible.phone, since=at, assigned_by=str(by)[:160],
    ))


def get_course_row(session: Session, course_id: uuid.UUID, *, lock: bool = False) -> CourseRow:
    row = session.get(CourseRow, course_id, with_for_update=lock)
    if row is None:
        raise course_not_found()
    return row


def load_course(
    session: Session, course_id: uuid.UUID, *, lock: bool = False
) -> tuple[CourseRow, Course]:
    """The stored course as the domain aggregate (with no pending events)."""
    row = get_course_row(session, course_id, lock=lock)
    attendance = session.scalars(
        select(AttendanceRow).where(AttendanceRow.course_id == row.id).order_by(AttendanceRow.id)
    ).all()
    referrals = session.scalars(
        select(Referral85Row).where(Referral85Row.course_id == row.id).order_by(Referral85Row.id)
    ).all()
    proposals = session.scalars(
        select(EndingProposalRow)
        .where(EndingProposalRow.course_id == row.id)
        .order_by(EndingProposalRow.id)
    ).all()
    review = None
    if row.review_requested_on is not None and row.review_planned_end is not None:
        review = Review(
            requested_on=row.review_requested_on,
            planned_end=row.review_planned_end,
            decided_on=row.review_decided_on,
            decision=ReviewDecision(row.review_decision) if row.review_decision else None,
        )
    course = Course(
        kind=CourseKind(row.kind),
        citizen_ref=str(row.citizen_ref),
        start_date=row.start_date,
        planned_end=row.planned_end,
        plan=Plan(
            goals=tuple(row.goals),
            follow_up_dates=tuple(dt.date.fromisoformat(d) for d in row.follow_up_dates),
        ),
        settings=settings_from_json(row.settings),
        status=CourseStatus(row.status),
        ended_on=row.ended_on,
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
        attendance=[Attendance(a.on_date, a.kept) for a in attendance],
        bridging_partner_kinds=frozenset(PartnerKind(k) for k in row.bridging_partner_kinds),
        review=review,
        referrals_85=[
            Referral85(
                referred_on=r.referred_on,
                outcome=ReferralOutcome(r.outcome) if r.outcome else None,
                outcome_on=r.outcome_on,
            )
            for r in referrals
        ],
        ending_proposals=[
            EndingProposal(
                proposed_on=p.proposed_on,
                rule_met_on=p.rule_met_on,
                last_kept_on=p.last_kept_on,
                rule=p.rule,
                decision=EndingDecision(p.decision) if p.decision else None,
                decided_on=p.decided_on,
            )
            for p in proposals
        ],
        last_message_on=row.last_message_on,
        fired=set(row.fired),
    )
    return row, course


def new_course_row(
    course: Course,
    *,
    inquiry_id: uuid.UUID | None,
    started_by: str,
    now: dt.datetime,
    responsible: Responsible,
    imported: bool = False,
) -> CourseRow:
    return CourseRow(
        id=uuid.uuid4(),
        citizen_ref=uuid.UUID(course.citizen_ref),
        inquiry_id=inquiry_id,
        kind=str(course.kind),
        start_date=course.start_date,
        settings=settings_to_json(course.settings),
        started_by=started_by,
        imported=imported,
        created_at=now,
        updated_at=now,
        responsible_staff_id=responsible.staff_id,
        responsible_name=responsible.name,
        responsible_email=responsible.email,
        responsible_phone=responsible.phone,
    )


def save_course(
    session: Session, row: CourseRow, course: Course, *, actor: str, now: dt.datetime
) -> None:
    """Write the aggregate's state into its rows (new attendance and referrals appended)."""
    row.planned_end = course.planned_end
    row.status = str(course.status)
    row.ended_on = course.ended_on
    row.end_reason = str(course.end_reason) if course.end_reason else None
    row.goals = list(course.plan.goals)
    row.follow_up_dates = [d.isoformat() for d in course.plan.follow_up_dates]
    row.bridging_partner_kinds = sorted(str(k) for k in course.bridging_partner_kinds)
    review = course.review
    row.review_requested_on = review.requested_on if review else None
    row.review_planned_end = review.planned_end if review else None
    row.review_decided_on = review.decided_on if review else None
    row.review_decision = str(review.decision) if review and review.decision else None
    row.bridging_due_on = course.bridging_due_on
    row.review_due_on = course.review_due_on
    row.last_message_on = course.last_message_on
    row.fired = sorted(course.fired)
    row.updated_at = now
    session.add(row)
    session.flush()  # the course row exists before its children reference it

    stored_attendance = session.scalars(
        select(AttendanceRow.id).where(AttendanceRow.course_id == row.id)
    ).all()
    # The domain only ever appends attendance.
    for record in course.attendance[len(stored_attendance) :]:
        session.add(
            AttendanceRow(
                course_id=row.id,
                on_date=record.on,
                kept=record.kept,
                recorded_by=actor,
                recorded_at=now,
            )
        )
    stored_referrals = session.scalars(
        select(Referral85Row).where(Referral85Row.course_id == row.id).order_by(Referral85Row.id)
    ).all()
    for index, referral in enumerate(course.referrals_85):
        if index < len(stored_referrals):
            stored = stored_referrals[index]
            stored.outcome = str(referral.outcome) if referral.outcome else None
            stored.outcome_on = referral.outcome_on
        else:
            session.add(
                Referral85Row(
                    course_id=row.id,
                    referred_on=referral.referred_on,
                    outcome=str(referral.outcome) if referral.outcome else None,
                    outcome_on=referral.outcome_on,
                )
            )
    stored_proposals = session.scalars(
        select(EndingProposalRow)
        .where(EndingProposalRow.course_id == row.id)
        .order_by(EndingProposalRow.id)
    ).all()
    for index, proposal in enumerate(course.ending_proposals):
        if index < len(stored_proposals):
            stored_proposal = stored_proposals[index]
            if stored_proposal.decision is None and proposal.decision is not None:
                stored_proposal.decided_by = actor
            stored_proposal.decision = str(proposal.decision) if proposal.decision else None
            stored_proposal.decided_on = proposal.decided_on
        else:
            session.add(
                EndingProposalRow(
                    course_id=row.id,
                    rule=proposal.rule,
                    proposed_on=proposal.proposed_on,
                    rule_met_on=proposal.rule_met_on,
                    last_kept_on=proposal.last_kept_on,
                    decision=str(proposal.decision) if proposal.decision else None,
                    decided_on=proposal.decided_on,
                    decided_by=actor if proposal.decision else None,
                )
            )
    session.flush()


def load_consent(
    session: Session, consent_id: uuid.UUID, *, lock: bool = False
) -> tuple[ConsentRow, Consent]:
    row = session.get(ConsentRow, consent_id, with_for_update=lock)
    if row is None:
        raise NotFound("consent_id", "No such consent.")
    consent = Consent(
        recipient=row.recipient,
        information_kinds=frozenset(row.information_kinds),
        purpose=row.purpose,
        given_at=row.given_at,
        given_by=row.given_by,
        form=ConsentForm(row.form),
        withdrawn_at=row.withdrawn_at,
        withdrawn_by=row.withdrawn_by,
    )
    return row, consent
