"""Fronten's, the review panel's and Social Vejledning's worklists: read models over
intake's own tables (docs/intake.md, "Worklists").

Each list is one query, paginated by the kit's keyset cursor
(`services.common.worklist`) on a sort key that does not change while an item is on
the list (a day that is set once, then the row id), sorted by urgency: the oldest or
the soonest due first. Each item says why it is there and by when, in Danish
(`services.intake.danish`). Each page read is one SEARCH in the access log, named by
the list; items carry the citizen_ref, never a name or the citizen's own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, or_, select

from contracts.actor import StaffRole
from contracts.vocabulary import ConsentPurpose, CourseKind
from services.common import access, worklist
from services.common.access import Action
from services.common.db import UnitOfWork
from services.common.holidays import add_working_days
from services.common.localtime import local_day
from services.intake import danish
from services.intake import need_to_know as ntk
from services.intake.consent import AGENCIES, CorrectionReason
from services.intake.courses import add_months
from services.intake.cpr import target_group
from services.intake.models import (
    Citizen,
    ConsentRow,
    CourseNotice,
    CourseRow,
    EndingProposalRow,
    Inquiry,
    PartnerRow,
    Referral85Row,
    TargetGroupFlag,
)
from services.intake.settings import IntakeContext, settings_from_json

OPEN_INQUIRIES = "intake.open_inquiries"
FOLLOW_UPS = "intake.follow_ups"
BRIDGING = "intake.bridging"
REVIEW_AGENDA = "intake.review_agenda"
END_OVERDUE = "intake.end_overdue"
ENDING_PROPOSED = "intake.ending_proposed"
REFERRALS_85 = "intake.referrals_85"
OUTSIDE_TARGET_GROUP = "intake.outside_target_group"
CONSENTS_TO_CORRECT = "intake.consents_to_correct"

# What the access log says the list was read for (the actor's own purpose wins).
TITLES = {
    OPEN_INQUIRIES: "Frontens åbne henvendelser",
    FOLLOW_UPS: "Frontens opfølgninger",
    BRIDGING: "Frontens brobygning",
    REVIEW_AGENDA: "det tværgående udvalgs dagsorden",
    END_OVERDUE: "Frontens forløb over planlagt slutdato",
    ENDING_PROPOSED: "Frontens forslag om afslutning (4-ugers-reglen)",
    REFERRALS_85: "Social Vejlednings § 85-henvisninger",
    OUTSIDE_TARGET_GROUP: "Frontens borgere uden for målgruppen",
    CONSENTS_TO_CORRECT: "Frontens samtykker der skal rettes",
}
# Who may read each list (the gateway's route roles say the same; services pass).
READERS: dict[str, tuple[StaffRole, ...]] = {
    OPEN_INQUIRIES: (StaffRole.FRONTEN,),
    FOLLOW_UPS: (StaffRole.FRONTEN,),
    BRIDGING: (StaffRole.FRONTEN,),
    REVIEW_AGENDA: ntk.REVIEW_DECIDERS,
    END_OVERDUE: (StaffRole.FRONTEN,),
    ENDING_PROPOSED: (StaffRole.FRONTEN,),
    REFERRALS_85: ntk.REFERRAL_85_DECIDERS,
    OUTSIDE_TARGET_GROUP: (StaffRole.FRONTEN,),
    CONSENTS_TO_CORRECT: (StaffRole.FRONTEN,),
}
_GATE_TEXT = {REVIEW_AGENDA: "review", REFERRALS_85: "referral_85"}


# Any select statement (SQLAlchemy types a Select by its columns).
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def _page(
    uow: UnitOfWork,
    *,
    actor: str,
    list_name: str,
    query: Any,
    order: Sequence[worklist.SortColumn],
    cursor: str | None,
    limit: int,
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    ntk.require_role(ntk.as_actor(actor), READERS[list_name],
                     _GATE_TEXT.get(list_name, "fronten"))
    page = worklist.paginate(
        uow.session, query, order=order, list_name=list_name, cursor=cursor, limit=limit
    )
    result = page.render(render)  # before the commit: the rows expire with it
    access.record(
        uow, actor=actor, action=Action.SEARCH, what="worklist", criterion=list_name,
        purpose=getattr(actor, "purpose", None) or f"arbejdsliste: {TITLES[list_name]}",
    )
    uow.commit()
    return result


def _today(uow: UnitOfWork) -> dt.date:
    return local_day(uow.clock.now())


def _course_filters(query: Query, actor: str, kind: CourseKind | None, mine: bool) -> Query:
    if kind is not None:
        query = query.where(CourseRow.kind == str(kind))
    if mine:
        query = query.where(CourseRow.responsible_staff_id == ntk.as_actor(actor).id)
    return query


def _course_details(row: CourseRow) -> dict[str, Any]:
    return {
        "course_id": str(row.id),
        "course_kind": row.kind,
        "course_kind_text": danish.course_kind(row.kind),
        "start_date": row.start_date.isoformat(),
        "planned_end": row.planned_end.isoformat(),
        "responsible": row.responsible_staff_id,
        "responsible_name": row.responsible_name,
    }


def _max_end(row: CourseRow) -> dt.date | None:
    settings = settings_from_json(row.settings)
    months = {
        "individual_82b": settings.individual_max_months,
        "sft": settings.sft_months,
        "group_82a": settings.group_max_months,
    }.get(row.kind)
    return None if months is None else add_months(row.start_date, months)


# --- Fronten: open inquiries -------------------------------------------------------------


def open_inquiries(
    uow: UnitOfWork, ctx: IntakeContext, *, actor: str, cursor: str | None, limit: int,
    channel: Any = None, inquirer_kind: Any = None,
) -> dict[str, Any]:
    """Inquiries with no outcome yet, oldest first."""
    today = _today(uow)
    query = (
        select(Inquiry.registered_at, Inquiry.id, Inquiry, Citizen.birth_date)
        .outerjoin(Citizen, Citizen.citizen_ref == Inquiry.citizen_ref)
        .where(Inquiry.outcome.is_(None))
    )
    if channel is not None:
        query = query.where(Inquiry.channel == str(channel))
    if inquirer_kind is not None:
        query = query.where(Inquiry.inquirer_kind == str(inquirer_kind))

    def render(r: Any) -> dict[str, Any]:
        inquiry: Inquiry = r[2]
        registered_on = local_day(inquiry.registered_at)
        code, text = danish.open_inquiry_reason(
            registered_on=registered_on, channel=inquiry.channel,
            inquirer_kind=inquiry.inquirer_kind, anonymous=inquiry.citizen_ref is None,
            today=today,
        )
        in_group = None
        if r[3] is not None:
            in_group = target_group(r[3], today, ctx.settings.state_pension_age).in_target_group
        return worklist.item(
            kind="inquiry_open", subject_type="inquiry", subject_id=inquiry.id,
            reason_code=code, reason=text, due_on=registered_on, today=today,
            citizen_ref=inquiry.citizen_ref,
            registered_at=inquiry.registered_at.isoformat(), channel=inquiry.channel,
            inquirer_kind=inquiry.inquirer_kind, topics=list(inquiry.topics),
            anonymous=inquiry.citizen_ref is None, in_target_group=in_group,
        )

    return _page(
        uow, actor=actor, list_name=OPEN_INQUIRIES, query=query,
        order=[worklist.asc(Inquiry.registered_at), worklist.asc(Inquiry.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Fronten: follow-ups due or overdue ------------------------------------------------------


def follow_ups(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None, mine: bool = False,
) -> dict[str, Any]:
    """Follow-ups that have fallen due and are not recorded as held, on running courses,
    the oldest first (one item per follow-up day)."""
    today = _today(uow)
    query = (
        select(CourseNotice.due_on, CourseNotice.id, CourseNotice, CourseRow)
        .join(CourseRow, CourseRow.id == CourseNotice.course_id)
        .where(
            CourseNotice.kind == "follow_up_due",
            CourseNotice.done_on.is_(None),
            CourseNotice.due_on <= today,
            CourseRow.status == "active",
        )
    )
    query = _course_filters(query, actor, kind, mine)

    def render(r: Any) -> dict[str, Any]:
        notice: CourseNotice = r[2]
        course: CourseRow = r[3]
        code, text = danish.follow_up_reason(
            follow_up_on=notice.due_on, kind=course.kind, today=today
        )
        return worklist.item(
            kind="follow_up", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=notice.due_on, today=today,
            citizen_ref=course.citizen_ref, follow_up_on=notice.due_on.isoformat(),
            **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=FOLLOW_UPS, query=query,
        order=[worklist.asc(CourseNotice.due_on), worklist.asc(CourseNotice.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Fronten: bridging due ---------------------------------------------------------------------


def _told(row: CourseRow) -> tuple[list[str], list[str]]:
    """Partner kinds for the course's current bridging day: (sent bridging_due, handled
    before Samspil: settled on import)."""
    due = row.bridging_due_on.isoformat() if row.bridging_due_on else ""
    told: list[str] = []
    settled: list[str] = []
    for key in row.fired:
        parts = key.split(":")
        if len(parts) >= 3 and parts[0] == "bridging_due" and parts[2] == due:
            (settled if parts[3:] == ["settled"] else told).append(parts[1])
    return sorted(told), sorted(settled)


def bridging(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None, mine: bool = False, partner_missing: bool = False,
) -> dict[str, Any]:
    """Running courses in their bridging time (from `bridging_due_on` to the end), the
    earliest first."""
    today = _today(uow)
    query = select(CourseRow.bridging_due_on, CourseRow.id, CourseRow).where(
        CourseRow.status == "active", CourseRow.bridging_due_on <= today
    )
    if partner_missing:
        # The JSON list of chosen partner kinds is empty: the same text on both databases.
        query = query.where(cast(CourseRow.bridging_partner_kinds, String) == "[]")
    query = _course_filters(query, actor, kind, mine)

    def render(r: Any) -> dict[str, Any]:
        course: CourseRow = r[2]
        assert course.bridging_due_on is not None
        kinds = list(course.bridging_partner_kinds)
        told, settled = _told(course)
        code, text = danish.bridging_reason(
            bridging_due_on=course.bridging_due_on, planned_end=course.planned_end,
            partner_kinds=kinds, told=told + settled,
        )
        # No partner: act now (due on the bridging day); else by the planned end.
        due = course.bridging_due_on if not kinds else course.planned_end
        return worklist.item(
            kind="bridging", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=due, today=today,
            citizen_ref=course.citizen_ref, bridging_due_on=course.bridging_due_on.isoformat(),
            partner_kinds=sorted(kinds), told=told, handled_before_samspil=settled,
            **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=BRIDGING, query=query,
        order=[worklist.asc(CourseRow.bridging_due_on), worklist.asc(CourseRow.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- the review panel's agenda -----------------------------------------------------------------


def review_agenda(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None, mine: bool = False, include_not_requested: bool = False,
) -> dict[str, Any]:
    """Running courses whose planned end awaits the tværgående udvalg, the soonest end
    first. A decision (decide_review) takes the course off."""
    today = _today(uow)
    awaiting: ColumnElement[bool] = CourseRow.review_requested_on.is_not(None)
    if include_not_requested:
        awaiting = or_(
            awaiting,
            and_(CourseRow.review_requested_on.is_(None), CourseRow.review_due_on <= today),
        )
    query = select(CourseRow.planned_end, CourseRow.id, CourseRow).where(
        CourseRow.status == "active", CourseRow.review_decision.is_(None), awaiting
    )
    query = _course_filters(query, actor, kind, mine)

    def render(r: Any) -> dict[str, Any]:
        course: CourseRow = r[2]
        code, text = danish.agenda_reason(
            kind=course.kind, planned_end=course.planned_end,
            requested_on=course.review_requested_on,
        )
        # Requested: the panel decides before the planned end. Not requested: Fronten
        # should have asked by the review day.
        due = course.planned_end if course.review_requested_on else course.review_due_on
        return worklist.item(
            kind="review", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=due, today=today,
            citizen_ref=course.citizen_ref,
            review_requested_on=(
                course.review_requested_on.isoformat() if course.review_requested_on else None
            ),
            max_end=_iso(_max_end(course)), **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=REVIEW_AGENDA, query=query,
        order=[worklist.asc(CourseRow.planned_end), worklist.asc(CourseRow.id)],
        cursor=cursor, limit=limit, render=render,
    )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# --- Fronten: past the planned end -----------------------------------------------------------


def end_overdue(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None, mine: bool = False,
) -> dict[str, Any]:
    """Running courses whose planned end has come, the longest overdue first. Ending the
    course (or a panel decision to continue, which moves the planned end) takes it off."""
    today = _today(uow)
    query = select(CourseRow.planned_end, CourseRow.id, CourseRow).where(
        CourseRow.status == "active", CourseRow.planned_end <= today
    )
    query = _course_filters(query, actor, kind, mine)

    def render(r: Any) -> dict[str, Any]:
        course: CourseRow = r[2]
        max_end = _max_end(course)
        code, text = danish.end_overdue_reason(
            kind=course.kind, planned_end=course.planned_end, max_end=max_end,
            requested_on=course.review_requested_on, decision=course.review_decision,
            decided_on=course.review_decided_on,
        )
        return worklist.item(
            kind="end_overdue", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=course.planned_end, today=today,
            citizen_ref=course.citizen_ref, max_end=_iso(max_end),
            review_decision=course.review_decision, **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=END_OVERDUE, query=query,
        order=[worklist.asc(CourseRow.planned_end), worklist.asc(CourseRow.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Fronten: the 4-week rule's proposals --------------------------------------------------------


def ending_proposed(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None, mine: bool = False,
) -> dict[str, Any]:
    """Proposals to end a course that wait for a person, the oldest first."""
    today = _today(uow)
    query = (
        select(EndingProposalRow.proposed_on, EndingProposalRow.id, EndingProposalRow, CourseRow)
        .join(CourseRow, CourseRow.id == EndingProposalRow.course_id)
        .where(EndingProposalRow.decision.is_(None), CourseRow.status == "active")
    )
    query = _course_filters(query, actor, kind, mine)

    def render(r: Any) -> dict[str, Any]:
        proposal: EndingProposalRow = r[2]
        course: CourseRow = r[3]
        code, text = danish.ending_proposed_reason(
            proposed_on=proposal.proposed_on, last_kept_on=proposal.last_kept_on,
            start_date=course.start_date,
        )
        # A person decides promptly: due on the day of the proposal.
        return worklist.item(
            kind="ending_proposed", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=proposal.proposed_on, today=today,
            citizen_ref=course.citizen_ref, rule=proposal.rule,
            proposed_on=proposal.proposed_on.isoformat(),
            last_kept_on=_iso(proposal.last_kept_on), **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=ENDING_PROPOSED, query=query,
        order=[worklist.asc(EndingProposalRow.proposed_on), worklist.asc(EndingProposalRow.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Social Vejledning: § 85 referrals ----------------------------------------------------------


def referrals_85(
    uow: UnitOfWork, ctx: IntakeContext, *, actor: str, cursor: str | None, limit: int,
    kind: CourseKind | None = None,
) -> dict[str, Any]:
    """§ 85 referrals with no outcome yet (the course may have ended), the oldest first.
    Recording the outcome (record_referral_85_outcome) takes one off."""
    today = _today(uow)
    days = ctx.settings.referral_85_answer_working_days
    query = (
        select(Referral85Row.referred_on, Referral85Row.id, Referral85Row, CourseRow)
        .join(CourseRow, CourseRow.id == Referral85Row.course_id)
        .where(Referral85Row.outcome.is_(None))
    )
    query = _course_filters(query, actor, kind, False)

    def render(r: Any) -> dict[str, Any]:
        referral: Referral85Row = r[2]
        course: CourseRow = r[3]
        answer_by = add_working_days(referral.referred_on, days)
        code, text = danish.referral_85_reason(
            referred_on=referral.referred_on, kind=course.kind, answer_by=answer_by
        )
        return worklist.item(
            kind="referral_85", subject_type="course", subject_id=course.id,
            reason_code=code, reason=text, due_on=answer_by, today=today,
            citizen_ref=course.citizen_ref, referred_on=referral.referred_on.isoformat(),
            course_status=course.status, **_course_details(course),
        )

    return _page(
        uow, actor=actor, list_name=REFERRALS_85, query=query,
        order=[worklist.asc(Referral85Row.referred_on), worklist.asc(Referral85Row.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Fronten: citizens outside the target group --------------------------------------------------


def outside_target_group(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int, subject: str | None = None,
) -> dict[str, Any]:
    """Courses and referrals for citizens outside the target group that wait for a
    person's decision (decide_target_group_flag), the oldest first."""
    today = _today(uow)
    query = select(TargetGroupFlag.flagged_at, TargetGroupFlag.id, TargetGroupFlag).where(
        TargetGroupFlag.decision.is_(None)
    )
    if subject is not None:
        query = query.where(TargetGroupFlag.subject == subject)

    def render(r: Any) -> dict[str, Any]:
        flag: TargetGroupFlag = r[2]
        code, text = danish.outside_target_group_reason(
            subject=flag.subject, age=flag.age, on=flag.on_date
        )
        return worklist.item(
            kind="outside_target_group", subject_type="target_group_flag",
            subject_id=flag.id, reason_code=code, reason=text,
            due_on=local_day(flag.flagged_at), today=today, citizen_ref=flag.citizen_ref,
            flag_id=str(flag.id), subject=flag.subject, flagged_subject_type=flag.subject_type,
            flagged_subject_id=str(flag.subject_id), age=flag.age, on=flag.on_date.isoformat(),
        )

    return _page(
        uow, actor=actor, list_name=OUTSIDE_TARGET_GROUP, query=query,
        order=[worklist.asc(TargetGroupFlag.flagged_at), worklist.asc(TargetGroupFlag.id)],
        cursor=cursor, limit=limit, render=render,
    )


# --- Fronten: consents to correct (samtykker der skal rettes) ------------------------------------


def consents_to_correct(
    uow: UnitOfWork, *, actor: str, cursor: str | None, limit: int,
) -> dict[str, Any]:
    """Consents not withdrawn whose recipient or purpose is not in the vocabulary: free
    text the migration could not map, or a recipient that is not (yet) in the partner
    directory. correct_consent (or withdraw_consent) takes one off; so does the partner
    being registered in the directory."""
    today = _today(uow)
    in_directory = exists().where(PartnerRow.partner_id == ConsentRow.recipient)
    pathway_team = ConsentRow.purpose == ConsentPurpose.PATHWAY_TEAM.value
    query = select(ConsentRow.given_at, ConsentRow.id, ConsentRow).where(
        ConsentRow.withdrawn_at.is_(None),
        or_(
            ConsentRow.needs_correction.is_not(None),
            and_(pathway_team, ConsentRow.recipient.not_in(AGENCIES)),
            and_(~pathway_team, ~in_directory),
        ),
    )

    def render(r: Any) -> dict[str, Any]:
        consent: ConsentRow = r[2]
        if consent.needs_correction:
            reason = consent.needs_correction
        elif consent.purpose == ConsentPurpose.PATHWAY_TEAM.value:
            reason = CorrectionReason.RECIPIENT_UNKNOWN.value
        else:
            reason = CorrectionReason.RECIPIENT_NOT_IN_DIRECTORY.value
        given_on = local_day(consent.given_at)
        code, text = danish.consent_to_correct_reason(reason=reason, given_on=given_on)
        return worklist.item(
            kind="consent_to_correct", subject_type="consent", subject_id=consent.id,
            reason_code=code, reason=text, due_on=given_on, today=today,
            citizen_ref=consent.citizen_ref, consent_id=str(consent.id),
            correction=reason, recipient=consent.recipient, purpose=consent.purpose,
            information_kinds=list(consent.information_kinds),
            given_on=given_on.isoformat(),
        )

    return _page(
        uow, actor=actor, list_name=CONSENTS_TO_CORRECT, query=query,
        order=[worklist.asc(ConsentRow.given_at), worklist.asc(ConsentRow.id)],
        cursor=cursor, limit=limit, render=render,
    )
