"""Courses (§ 82 a, SFT, § 82 b): start one from an inquiry with the responsible staff
member picked from the directory, and the course page: its clocks as dates and days left
(follow-ups, bridging, the review before the planned end, the maximum length), attendance
and follow-ups, the 4-week rule's proposal and a person's decision, the bridging plan,
the review request, the § 85 referral, the course's hand-offs with their states and
answers, and handing the course over to another responsible staff member.

What a person may do is the service's to decide: the page offers each role the commands
its work needs, and shows the service's refusal next to the field when it says no."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import CourseKind
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages.fronten import (
    FRONTEN,
    PURPOSE,
    citizen_name,
    days_until,
    form_errors,
    not_found,
    options,
    render,
    today,
)
from services.web.worklists import subject_page

R = StaffRole
# Who reads a course (intake decides which: the panel its agenda, Social Vejledning its
# § 85 referrals).
COURSE_READERS = {R.FRONTEN, R.REVIEW_PANEL, R.SOCIAL_VEJLEDNING}
PURPOSES = {R.FRONTEN: PURPOSE, R.REVIEW_PANEL: "Tværgående udvalgs behandling af forløbet",
            R.SOCIAL_VEJLEDNING: "Vurdering efter servicelovens § 85"}
BRIDGING_KINDS = ("employment", "education", "health")
FOLLOW_UP_FIELDS = 3  # follow-up dates on the start form

subject_page("course", "/forloeb/{subject_id}")

danish.add_labels("course_status", {"active": "I gang", "ended": "Afsluttet"})
danish.add_labels("end_reason", {
    "planned_end": "Afsluttet efter planen", "broken_agreements":
    "Aftaler ikke overholdt i 4 uger", "max_length_reached": "Den maksimale længde er nået",
    "citizen_withdrew": "Borgeren trak sig"})
danish.add_labels("review_decision", {
    "end": "Forløbet afsluttes ved den planlagte slutdato",
    "continue": "Forløbet fortsætter til en ny planlagt slutdato (forlænges)",
    "refer_85": "Forløbet afsluttes, og borgeren henvises til vurdering efter § 85"})
danish.add_labels("referral_outcome", {"granted": "Støtte efter § 85 er bevilget",
                                       "refused": "Støtte efter § 85 er afslået",
                                       "withdrawn": "Henvisningen er trukket tilbage"})
danish.add_labels("ending_decision", {"confirmed": "Afslutningen er bekræftet",
                                      "back_on_track": "Borgeren er tilbage på sporet",
                                      "ended_otherwise": "Forløbet sluttede af anden grund"})
danish.add_labels("bridging_kind", {"employment": "Beskæftigelse (jobcenter)",
                                    "education": "Uddannelse", "health": "Sundhed"})
danish.add_labels("course_handoff_outcome", {
    "started": "Borgeren er startet", "not_started": "Borgeren startede ikke",
    "enrolled": "Borgeren er optaget", "not_enrolled": "Borgeren blev ikke optaget",
    "withdrawn": "Trukket tilbage", "held": "Boligforeningen ventede",
    "paid": "Lejeren har betalt restancen", "terminated": "Lejemålet er ophævet",
    "granted": "Støtte efter § 85 er bevilget", "refused": "Støtte efter § 85 er afslået"})
danish.add_labels("course_handoff_answer", {
    "received": "Markér som modtaget", "accepted": "Acceptér", "in_progress":
    "Markér som i gang", "declined": "Afvis", "completed": "Afslut med et udfald",
    "cancelled": "Annullér overdragelsen"})
danish.add_rule_texts({
    "course.anonymous_inquiry": "Henvendelsen er anonym. Et forløb kræver en registreret "
                                "borger.",
    "course.already_started": "Der er allerede startet et forløb for denne henvendelse.",
    "course.outcome_mismatch": "Forløbstypen passer ikke til henvendelsens udfald.",
    "course.planned_end_missing": "Angiv den planlagte slutdato.",
    "course.end_before_start": "Datoen skal ligge efter forløbets start.",
    "course.max_length_exceeded": "Datoen ligger efter forløbets maksimale længde.",
    "course.sft_fixed_length": "Social Færdighedstræning varer altid 9 måneder. Lad "
                               "slutdatoen stå tom.",
    "course.extension_not_later": "Den nye slutdato skal ligge efter den nuværende.",
    "course.ended": "Forløbet er afsluttet.",
    "course.review_missing": "Udvalget skal godkende afslutningen først. Send forløbet til "
                             "udvalget.",
    "course.same_responsible": "Medarbejderen er allerede ansvarlig for forløbet.",
    "course.end_reason_automatic": "Den grund sætter Samspil selv. Vælg en anden.",
    "course.kind_unknown": "Vælg en forløbstype.",
    "course.citizen_missing": "Henvendelsen har ingen registreret borger.",
    "plan.goals_missing": "Skriv mindst ét mål med borgerens egne ord.",
    "plan.goal_blank": "Et mål må ikke være tomt.",
    "plan.follow_up_missing": "Angiv mindst én opfølgningsdato.",
    "plan.follow_up_outside_course": "Opfølgningen skal ligge inden for forløbets periode.",
    "attendance.in_future": "Registrér en aftale, når dagen er kommet.",
    "attendance.outside_course": "Dagen ligger uden for forløbet.",
    "follow_up.not_due": "Der er ingen opfølgning, som er faldet den dag.",
    "follow_up.already_recorded": "Opfølgningen er allerede registreret.",
    "bridging.partner_kinds_missing": "Vælg mindst én.",
    "bridging.partner_kind": "Vælg fra listen.",
    "review.already_requested": "Forløbet er allerede sendt til udvalget.",
    "review.not_requested": "Forløbet er ikke sendt til udvalget endnu.",
    "review.already_decided": "Udvalget har allerede truffet sin afgørelse.",
    "review.before_request": "Afgørelsen kan ikke ligge før anmodningen.",
    "review.before_start": "Datoen ligger før forløbets start.",
    "review.new_planned_end_missing": "Angiv den nye planlagte slutdato, når forløbet "
                                      "fortsætter.",
    "review.new_planned_end_unexpected": "Angiv kun en ny slutdato, når forløbet fortsætter.",
    "referral_85.already_referred": "Der er allerede en åben henvisning til § 85.",
    "referral_85.none_open": "Der er ingen åben henvisning til § 85.",
    "referral_85.before_referral": "Udfaldet kan ikke ligge før henvisningen.",
    "referral_85.before_start": "Datoen ligger før forløbets start.",
    "ending.none_proposed": "Der er intet forslag om at afslutte forløbet.",
    "ending.before_proposal": "Afgørelsen kan ikke ligge før forslaget.",
})

START_LABELS = {"kind": "Forløbstype", "start_date": "Startdato",
                "planned_end": "Planlagt slutdato", "responsible": "Ansvarlig medarbejder",
                "goals": "Borgerens mål med borgerens egne ord",
                "follow_up_dates": "Opfølgninger", "bridging_to": "Brobygning til"}
COURSE_LABELS = {"attendance_on": "Dag for aftalen", "attendance_kept": "Blev aftalen holdt?",
                 "partner_kinds": "Brobygning til", "handover_staff_id": "Ny ansvarlig",
                 "handover_note": "Besked til den nye ansvarlige", "decision": "Afgørelse",
                 "new_planned_end": "Ny planlagt slutdato", "end_reason": "Hvorfor slutter "
                 "forløbet?", "end_on": "Sidste dag", "extend_planned_end":
                 "Ny planlagt slutdato"}


def purpose_of(ctx: WebContext) -> str:
    """The purpose the access log records: the reader's work."""
    for role in (R.FRONTEN, R.SOCIAL_VEJLEDNING, R.REVIEW_PANEL):
        if ctx.has_role(role):
            return PURPOSES[role]
    return PURPOSE


def _fronten_staff(ctx: WebContext) -> list[dict[str, Any]]:
    """Fronten's staff from the directory (who can be responsible for a course)."""
    return list(ctx.ops.staff("fronten")) if ctx.ops else []


def _responsible(ctx: WebContext, staff_id: str) -> dict[str, Any] | None:
    """The picked staff member's work contact, as the course records it."""
    person = next((s for s in _fronten_staff(ctx) if s["staff_id"] == staff_id), None)
    if person is None:
        return None
    return {"staff_id": person["staff_id"], "name": person["name"],
            "email": person.get("email"), "phone": person.get("phone")}


# -- starting a course -----------------------------------------------------------------------------


def _start_page(ctx: WebContext, inquiry: dict[str, Any], status: int = 200,
                errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None) -> Response:
    staff = [(s["staff_id"], s["name"]) for s in _fronten_staff(ctx)]
    if ctx.identity.id not in {staff_id for staff_id, _ in staff}:
        staff.insert(0, (ctx.identity.id, ctx.identity.name))
    return render(ctx,
        "courses/start.html", status=status, inquiry=inquiry, errors=errors or {},
        values=values or {"kind": "individual_82b", "start_date": today(ctx).isoformat(),
                          "responsible": ctx.identity.id, "follow_up_dates": [],
                          "bridging_to": []},
        labels=START_LABELS, kinds=options("course_kind", CourseKind), staff=staff,
        bridging_kinds=[(k, danish.label("bridging_kind", k)) for k in BRIDGING_KINDS],
        follow_up_fields=FOLLOW_UP_FIELDS,
        citizen_name=citizen_name(ctx, inquiry.get("citizen_ref")))


def _inquiry(ctx: WebContext) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("intake", "get_inquiry", inquiry_id=ctx.args["inquiry_id"],
                             purpose=PURPOSE))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


@page("/henvendelser/<inquiry_id>/forloeb", methods=("GET", "POST"), roles=FRONTEN)
def start_course(ctx: WebContext) -> Response:
    inquiry = _inquiry(ctx)
    if inquiry is None:
        return not_found(ctx, "Henvendelsen findes ikke", "Find henvendelsen på listen.")
    if ctx.request.method == "GET":
        return _start_page(ctx, inquiry)
    form = ctx.form
    values = {"kind": form.get("kind", ""), "start_date": form.get("start_date", "").strip(),
              "planned_end": form.get("planned_end", "").strip(),
              "responsible": form.get("responsible", ""), "goals": form.get("goals", ""),
              "follow_up_dates": [d.strip() for d in form.getlist("follow_up_dates")],
              "bridging_to": form.getlist("bridging_to")}
    responsible = _responsible(ctx, values["responsible"])
    if responsible is None and values["responsible"] != ctx.identity.id:
        return _start_page(ctx, inquiry, 400, {"responsible": "Vælg en medarbejder fra listen."},
                           values)
    plan = {"goals": [line.strip() for line in values["goals"].splitlines() if line.strip()],
            "follow_up_dates": [d for d in values["follow_up_dates"] if d]}
    try:
        started = ctx.call("intake", "start_course", inquiry_id=inquiry["inquiry_id"],
                           kind=values["kind"], start_date=values["start_date"] or None,
                           planned_end=values["planned_end"] or None, plan=plan,
                           bridging_to=values["bridging_to"], responsible=responsible)
    except RpcProblem as problem:
        if problem.status != 400:
            raise
        return _start_page(ctx, inquiry, 400, form_errors(problem, {
            "plan.goals": "goals", "plan.follow_up_dates": "follow_up_dates",
            "plan": "goals", "bridging_to": "bridging_to", "responsible": "responsible",
            "ended_on": "planned_end", "inquiry_id": "inquiry"}), values)
    return ctx.redirect(f"/forloeb/{started['course_id']}", notice="Forløbet er startet.")


# -- the course page -------------------------------------------------------------------------------


def _clocks(course: dict[str, Any], day: Any) -> list[dict[str, Any]]:
    """The course's clocks as rows: what, which day, days left, and where it stands."""
    pending = {d["kind"]: d["due_on"] for d in course.get("deadlines", [])}
    notices = {(n["kind"], n["due_on"]): n for n in course.get("notices", [])}
    rows: list[dict[str, Any]] = []
    for follow_up in course["plan"]["follow_up_dates"]:
        notice = notices.get(("follow_up_due", follow_up))
        if notice and notice.get("done_on"):
            state, days = f"Holdt, registreret {danish.short_date(notice['done_on'])}", None
        elif notice:
            state, days = "Ikke registreret som holdt", days_until(follow_up, day)
        else:
            state, days = "Kommer", days_until(follow_up, day)
        rows.append({"what": "Opfølgning", "on": follow_up, "days": days, "state": state})
    kinds = course.get("bridging_partner_kinds") or []
    rows.append({"what": "Brobygning begynder", "on": course["bridging_due_on"],
                 "days": days_until(course["bridging_due_on"], day)
                 if "bridging_due" in pending else None,
                 "state": ", ".join(danish.label("bridging_kind", k) for k in kinds)
                 if kinds else "Ingen samarbejdspartner valgt"})
    review = course.get("review")
    if review:
        state = ("Sendt til udvalget " + danish.short_date(review["requested_on"])
                 + (": " + danish.label("review_decision", review["decision"]).lower()
                    if review.get("decision") else ", venter på afgørelse"))
        rows.append({"what": "Tværgående udvalg", "on": review["requested_on"], "days": None,
                     "state": state})
    elif "review_due" in pending:
        rows.append({"what": "Send til tværgående udvalg senest", "on": pending["review_due"],
                     "days": days_until(pending["review_due"], day),
                     "state": "Ikke sendt endnu"})
    if "broken_agreements" in pending:
        rows.append({"what": "4-ugersreglen (aftaler ikke holdt)",
                     "on": pending["broken_agreements"],
                     "days": days_until(pending["broken_agreements"], day),
                     "state": "Foreslår afslutning, hvis intet ændrer sig"})
    active = course["status"] == "active"
    rows.append({"what": "Planlagt slut", "on": course["planned_end"],
                 "days": days_until(course["planned_end"], day) if active else None,
                 "state": "" if active else danish.label("end_reason", course.get("end_reason"))})
    rows.append({"what": "Maksimal længde", "on": course.get("max_end"),
                 "days": days_until(course.get("max_end"), day) if active else None,
                 "state": "" if course.get("max_end") else "Ingen grænse for gruppeforløb"})
    return rows


def _handoffs(ctx: WebContext, course_id: str) -> list[dict[str, Any]]:
    if not ctx.has_role(R.FRONTEN, R.SOCIAL_VEJLEDNING):
        return []
    found = ctx.call("partners", "handoffs_of_subject", subject_type="course",
                     subject_id=course_id)
    day = today(ctx)
    return [{**h, "answer_days": days_until(h.get("answer_by"), day),
             "outcome_options": [(code, danish.label("course_handoff_outcome", code))
                                 for code in h.get("outcomes") or []]}
            for h in found.get("items", [])]


def answers_for(ctx: WebContext, handoff: dict[str, Any]) -> list[str]:
    """The answers this person gives to a hand-off: Social Vejledning answers its § 85
    referrals as the partner would; Fronten may cancel (partners.answer_handoff)."""
    states = list(handoff.get("next_states") or [])
    if ctx.has_role(R.SOCIAL_VEJLEDNING) and handoff.get("kind") == "referral_85":
        return [s for s in states if s != "cancelled"]
    if ctx.has_role(R.FRONTEN) and "cancelled" in states:
        return ["cancelled"]
    return []


def course_page(ctx: WebContext, status: int = 200, errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None) -> Response:
    """The course as the caller may see it, with the forms their work needs; after a
    refused form, the same page with the errors next to their fields."""
    course_id = ctx.args["course_id"]
    try:
        course = dict(ctx.call("intake", "get_course", course_id=course_id,
                               purpose=purpose_of(ctx)))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return not_found(ctx, "Forløbet findes ikke",
                             "Måske er adressen forkert, eller du har ikke adgang til forløbet.")
        raise
    day = today(ctx)
    handoffs = _handoffs(ctx, course_id)
    fronten = ctx.has_role(R.FRONTEN)
    response = render(ctx,
        "courses/course.html", status=status, course=course, clocks=_clocks(course, day),
        today=day, citizen_name=citizen_name(ctx, course["citizen_ref"], purpose_of(ctx)),
        handoffs=handoffs, answers={h["handoff_id"]: answers_for(ctx, h) for h in handoffs},
        errors=errors or {}, values=values or {}, labels={**COURSE_LABELS, **{
            f"{name}-{h['handoff_id']}": text for h in handoffs for name, text in (
                ("state", "Svar"), ("reason", "Begrundelse"), ("outcome", "Udfald"),
                ("note", "Bemærkning"))}},
        fronten=fronten, panel=ctx.has_role(R.REVIEW_PANEL, R.FRONTEN),
        citizen_link=ctx.has_role(R.FRONTEN, R.SOCIAL_VEJLEDNING),
        staff=[(s["staff_id"], s["name"]) for s in _fronten_staff(ctx)
               if s["staff_id"] != course["responsible"]["staff_id"]] if fronten else [],
        bridging_kinds=[(k, danish.label("bridging_kind", k)) for k in BRIDGING_KINDS],
        decisions=[(code, danish.label("review_decision", code))
                   for code in ("end", "continue", "refer_85")],
        kept_options=[("true", "Ja, aftalen blev holdt"),
                      ("false", "Nej, aftalen blev ikke holdt")],
        end_reasons=[(code, danish.label("end_reason", code))
                     for code in ("planned_end", "citizen_withdrew")])
    response.headers["Cache-Control"] = "no-store"
    return response


@page("/forloeb/<course_id>", roles=COURSE_READERS)
def show_course(ctx: WebContext) -> Response:
    return course_page(ctx)


def course_command(ctx: WebContext, rpc: str, args: dict[str, Any], *, notice: str,
                   fields: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                   service: str = "intake") -> Response:
    """Run one of the course's commands; back to the course with a notice, or the page
    again with the service's errors next to the form's fields."""
    try:
        ctx.call(service, rpc, **args)
    except RpcProblem as problem:
        if problem.status == 404:
            return not_found(ctx, "Forløbet findes ikke",
                             "Måske er adressen forkert, eller du har ikke adgang.")
        if problem.status != 400:
            raise
        return course_page(ctx, 400, form_errors(problem, fields), values)
    # (No #anchor: the frame adds the notice to the address, after it.)
    return ctx.redirect(f"/forloeb/{ctx.args['course_id']}", notice=notice)


def _course(ctx: WebContext) -> dict[str, str]:
    return {"course_id": ctx.args["course_id"]}


@page("/forloeb/<course_id>/fremmoede", methods=("POST",), roles=FRONTEN)
def record_attendance(ctx: WebContext) -> Response:
    values = {"attendance_on": ctx.form.get("attendance_on", "").strip(),
              "attendance_kept": ctx.form.get("attendance_kept", "")}
    return course_command(
        ctx, "record_attendance", {**_course(ctx), "on": values["attendance_on"],
                                   "kept": values["attendance_kept"] or None},
        notice="Aftalen er registreret.", values=values,
        fields={"on": "attendance_on", "attendance": "attendance_on",
                "kept": "attendance_kept"})


@page("/forloeb/<course_id>/opfoelgning", methods=("POST",), roles=FRONTEN)
def record_follow_up(ctx: WebContext) -> Response:
    return course_command(
        ctx, "record_follow_up", {**_course(ctx),
                                  "follow_up_on": ctx.form.get("follow_up_on", "")},
        notice="Opfølgningen er registreret som holdt.")


@page("/forloeb/<course_id>/afslutning/bekraeftelse", methods=("POST",), roles=FRONTEN)
def confirm_ending(ctx: WebContext) -> Response:
    return course_command(ctx, "confirm_course_ending", _course(ctx),
                          notice="Forløbet er afsluttet i dag efter 4-ugersreglen.")


@page("/forloeb/<course_id>/afslutning/tilbage-paa-sporet", methods=("POST",), roles=FRONTEN)
def back_on_track(ctx: WebContext) -> Response:
    return course_command(ctx, "record_back_on_track", _course(ctx),
                          notice="Borgeren er tilbage på sporet. De 4 uger tæller fra i dag.")


@page("/forloeb/<course_id>/brobygning", methods=("POST",), roles=FRONTEN)
def plan_bridging(ctx: WebContext) -> Response:
    values = {"partner_kinds": ctx.form.getlist("partner_kinds")}
    return course_command(ctx, "plan_bridging", {**_course(ctx), **values},
                          notice="Brobygningen er planlagt.", values=values,
                          fields={"bridging": "partner_kinds", "partner_kinds": "partner_kinds"})


@page("/forloeb/<course_id>/udvalg", methods=("POST",), roles=FRONTEN)
def request_review(ctx: WebContext) -> Response:
    return course_command(ctx, "request_review", _course(ctx),
                          notice="Forløbet er sendt til tværgående udvalg.")


@page("/forloeb/<course_id>/henvisning-85", methods=("POST",), roles=FRONTEN)
def refer_to_85(ctx: WebContext) -> Response:
    return course_command(ctx, "refer_to_85", _course(ctx),
                          notice="Borgeren er henvist til Social Vejledning (§ 85).")


@page("/forloeb/<course_id>/forlaengelse", methods=("POST",), roles=FRONTEN)
def extend_course(ctx: WebContext) -> Response:
    values = {"extend_planned_end": ctx.form.get("extend_planned_end", "").strip()}
    return course_command(ctx, "extend_course",
                          {**_course(ctx), "planned_end": values["extend_planned_end"]},
                          notice="Forløbet er forlænget. Den nye slutdato skal til udvalget.",
                          values=values,
                          fields={"planned_end": "extend_planned_end"})


@page("/forloeb/<course_id>/afslutning", methods=("POST",), roles=FRONTEN)
def end_course(ctx: WebContext) -> Response:
    values = {"end_reason": ctx.form.get("end_reason", ""),
              "end_on": ctx.form.get("end_on", "").strip()}
    return course_command(ctx, "end_course", {**_course(ctx), "reason": values["end_reason"],
                                              "on": values["end_on"] or None},
                          notice="Forløbet er afsluttet.", values=values,
                          fields={"reason": "end_reason", "ended_on": "end_on", "on": "end_on",
                                  "review": "end_reason"})


@page("/forloeb/<course_id>/ansvarlig", methods=("POST",), roles=FRONTEN)
def hand_over(ctx: WebContext) -> Response:
    values = {"handover_staff_id": ctx.form.get("handover_staff_id", ""),
              "handover_note": ctx.form.get("handover_note", "")}
    responsible = _responsible(ctx, values["handover_staff_id"])
    if responsible is None:
        return course_page(ctx, 400, {"handover_staff_id": "Vælg en medarbejder fra listen."},
                           values)
    return course_command(ctx, "hand_over_course",
                          {**_course(ctx), "responsible": responsible,
                           "note": values["handover_note"].strip() or None},
                          notice=f"{responsible['name']} er nu ansvarlig for forløbet.",
                          values=values,
                          fields={"responsible": "handover_staff_id", "note": "handover_note"})
