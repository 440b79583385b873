"""Scheduling a pathway's meetings, for the tovholder: the slots coordination proposes
(`propose_slots`) on a week grid that shows the week's holidays and what is busy, each
slot a button (a real table with row and column headers, usable with the keyboard).
Picking a slot schedules the meeting, and coordination's event sends the invitations.
From the same page a planned meeting is moved (the grid proposes new times for it) or
cancelled, and recorded as held. Below the grid, the participants' availability:
working hours, a busy block, a holiday (ferie: whole days).

What is busy: the pathway's own planned meetings, and, when coordination answers
`busy_times` (asked of the lead; a 501 until then), every invitee's busy blocks. The
ranking, the working hours and the holiday rule are coordination's; the grid only
places its answer on a week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from contracts.vocabulary import MeetingPlace
from services.common.holidays import closed_days
from services.common.localtime import COPENHAGEN
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages.pathways import (
    PATHWAY_STAFF,
    TOVHOLDER,
    WEEKDAY_CODES,
    clock_time,
    field_errors,
    is_tovholder,
    names_of,
    not_found,
    pathway_of,
    today,
)
from services.web.worklists import subject_page

subject_page("meeting", "/borgerforloeb/{details[pathway_id]}/moeder")

GRID_SLOTS = 20  # proposals asked for one week
PER_DAY = 4  # at most this many a day, so the week shows choices on several days
LENGTHS = (30, 45, 60, 90, 120)
FIRST_HOUR, LAST_HOUR = 8, 15  # the rows always shown (the municipality's day)
INVITE = ("required", "optional", "none")

danish.add_labels("invite", {"required": "Skal med", "optional": "Gerne med",
                             "none": "Ikke inviteret"})
danish.add_rule_texts({
    "meeting.outside_working_hours": "Tidspunktet ligger uden for en deltagers arbejdstid.",
    "meeting.participant_busy": "En deltager er optaget på det tidspunkt. Vælg en anden tid.",
    "meeting.holiday": "Det er en helligdag. Vælg en anden dag.",
    "meeting.weekend": "Møder holdes på hverdage.",
    "meeting.end_before_start": "Mødet skal slutte, efter det begynder.",
    "meeting.in_past": "Tidspunktet er forbi. Vælg en tid, der ikke er passeret.",
    "meeting.spans_days": "Et møde skal ligge på én dag.",
    "meeting.not_planned": "Mødet er ikke planlagt længere (det er holdt eller aflyst).",
    "meeting.not_yet_held": "Mødet er ikke begyndt endnu.",
    "meeting.cancel_reason_missing": "Skriv, hvorfor mødet aflyses.",
    "meeting.unknown_participant": "Personen er ikke med i teamet eller netværket.",
    "meeting.participant_duplicate": "En person står to gange.",
    "meeting.tovholder_missing": "Forløbet skal have en tovholder, før der kan holdes møder.",
    "meeting.citizen_missing": "Borgeren skal være med til mødet.",
    "slots.horizon_in_past": "Ugen er forbi. Vælg en senere uge.",
    "slots.horizon_invalid": "Vælg en uge.",
    "slots.horizon_too_long": "Søg højst et år frem.",
    "busy.end_before_start": "Slutningen skal ligge efter starten.",
    "working_hours.duplicate_day": "En dag står to gange.",
    "working_hours.end_before_start": "Arbejdsdagen skal slutte, efter den begynder.",
})

AVAILABILITY_LABELS = {
    "hours-member": "Hvis arbejdstid", "busy-participant": "Hvem er optaget", "busy-date": "Dato",
    "busy-start": "Fra kl.", "busy-end": "Til kl.", "ferie-participant": "Hvem holder ferie",
    "ferie-from": "Første dag", "ferie-to": "Sidste dag",
    "cancel-reason": "Hvorfor aflyses mødet?",
    "held-present": "Hvem var med?", "held-decisions": "Hvad blev besluttet?",
    **{f"hours-{c}-{k}": f"{danish.label('weekday', c).capitalize()} {word}"
       for c in WEEKDAY_CODES[:5] for k, word in (("start", "fra"), ("end", "til"))},
}


# -- the week grid (presentation of coordination's answer) ---------------------------------


def day_text(day: dt.date) -> str:
    """"torsdag 13. maj": a day of the week shown (the year is the grid's)."""
    return f"{danish.WEEKDAYS[day.weekday()]} {day.day}. {danish.MONTHS[day.month - 1]}"


@dataclass
class Cell:
    slots: list[dict[str, Any]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


@dataclass
class Day:
    date: dt.date
    heading: str
    holiday: str | None
    past: bool


@dataclass
class WeekGrid:
    monday: dt.date
    days: list[Day]
    rows: list[tuple[str, list[Cell]]]  # ("kl. 08.00", a cell per day)

    @property
    def number(self) -> int:
        return self.monday.isocalendar()[1]

    @property
    def slot_count(self) -> int:
        return sum(len(c.slots) for _, cells in self.rows for c in cells)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=COPENHAGEN)


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).astimezone(COPENHAGEN)


def week_grid(monday: dt.date, slots: list[dict[str, Any]],
              busy: list[tuple[dt.datetime, dt.datetime, str]], now: dt.datetime) -> WeekGrid:
    """Monday to Friday in hour rows: each proposed slot in the hour it starts, each busy
    time in the hours it covers, and each day's holiday (closed day) named."""
    days = []
    for offset in range(5):
        day = monday + dt.timedelta(days=offset)
        days.append(Day(day, day_text(day), closed_days(day.year).get(day),
                        day < now.astimezone(COPENHAGEN).date()))
    hours = {h for h in range(FIRST_HOUR, LAST_HOUR + 1)}
    placed: dict[tuple[int, int], Cell] = {}

    def cell(day_index: int, hour: int) -> Cell:
        hours.add(hour)
        return placed.setdefault((day_index, hour), Cell())

    for slot in slots:
        start = _moment(slot["starts_at"])
        index = (start.date() - monday).days
        if 0 <= index < 5:
            cell(index, start.hour).slots.append({
                **slot, "day": day_text(start.date()),
                "time": f"{start.hour:02d}.{start.minute:02d}"})
    for start, end, text in busy:
        start, end = start.astimezone(COPENHAGEN), end.astimezone(COPENHAGEN)
        for index, column in enumerate(days):
            for hour in range(7, 19):
                cell_start = local_midnight(column.date) + dt.timedelta(hours=hour)
                if start < cell_start + dt.timedelta(hours=1) and end > cell_start and (
                        hour in hours or FIRST_HOUR <= hour <= LAST_HOUR):
                    found = cell(index, hour)
                    if text not in found.busy:
                        found.busy.append(text)
    rows = [(f"kl. {hour:02d}.00", [placed.get((i, hour), Cell()) for i in range(5)])
            for hour in sorted(hours)]
    return WeekGrid(monday, days, rows)


# -- reading the page's choices ------------------------------------------------------------


def _week(ctx: WebContext) -> dt.date:
    text = ctx.request.args.get("uge", "")
    try:
        return monday_of(dt.date.fromisoformat(text))
    except ValueError:
        return monday_of(today(ctx))


def _length(text: str | None, default: int = 60) -> int:
    return int(text) if text and text.isdigit() and int(text) in LENGTHS else default


def _planned(pathway: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in pathway.get("meetings") or [] if m["status"] == "planned"]


def _invitable(pathway: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(participant id, name and role, default choice) of the team and the network."""
    people = [(m["member_id"], f"{m['name']} ({m['role']})", "required")
              for m in pathway.get("members") or [] if m["active"] and not m["tovholder"]]
    people += [(n["person_id"], f"{n['name']} ({n['relation']})", "optional")
               for n in pathway.get("network") or []]
    return people


def _invitees(ctx: WebContext, pathway: dict[str, Any]) -> list[dict[str, Any]]:
    """Who the tovholder invites, as chosen on the page (team: must come; network: would
    be good), in the contract's shape."""
    args = ctx.request.args
    chosen = []
    for pid, _, default in _invitable(pathway):
        choice = args.get(f"deltager-{pid}", default)
        if choice in ("required", "optional"):
            chosen.append({"participant_id": pid, "required": choice == "required"})
    return chosen


def _busy_times(ctx: WebContext, pathway: dict[str, Any], monday: dt.date,
                names: dict[str, str], leave_out: str | None
                ) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """What is busy in the week: the pathway's planned meetings, and the invitees' busy
    blocks when coordination answers `busy_times` (not in this release: a 501)."""
    start, end = local_midnight(monday), local_midnight(monday + dt.timedelta(days=5))
    busy = [(_moment(m["starts_at"]), _moment(m["ends_at"]), "Møde i forløbet")
            for m in _planned(pathway) if m["meeting_id"] != leave_out
            and _moment(m["ends_at"]) > start and _moment(m["starts_at"]) < end]
    try:
        found = ctx.call("coordination", "busy_times", pathway_id=pathway["pathway_id"],
                         window_start=start.astimezone(dt.UTC).isoformat(),
                         window_end=end.astimezone(dt.UTC).isoformat())
    except RpcProblem:
        return busy
    # The pathway's own meetings are shown as such (a meeting being moved not at all).
    own = {m["meeting_id"] for m in pathway.get("meetings") or []}
    for person in found.get("participants", []):
        who = names.get(person.get("participant_id"), "En deltager")
        busy += [(_moment(b["starts_at"]), _moment(b["ends_at"]), f"{who} er optaget")
                 for b in person.get("busy", []) if b.get("ref") not in own]
    return busy


def _query(ctx: WebContext, **changes: Any) -> str:
    args = {k: v for k, v in ctx.request.args.items() if k not in ("besked",)}
    args.update({k: v for k, v in changes.items() if v is not None})
    return urlencode({k: v for k, v in args.items() if v != ""})


# -- the page ------------------------------------------------------------------------------


def render_meetings(ctx: WebContext, *, status: int = 200, errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None, open_form: str | None = None
                    ) -> Response:
    pathway = pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    lead = is_tovholder(pathway)
    names = names_of(pathway)
    planned = _planned(pathway)
    moving = next((m for m in planned if m["meeting_id"] == ctx.request.args.get("flyt")), None)
    monday = _week(ctx)
    if moving and "uge" not in ctx.request.args:
        monday = monday_of(_moment(moving["starts_at"]).date())
    length = _length(ctx.request.args.get("laengde"), 60 if moving is None else int(
        (_moment(moving["ends_at"]) - _moment(moving["starts_at"])).total_seconds() // 60))
    preferences = pathway.get("preferences") or {}
    place = ctx.request.args.get("sted") or preferences.get("place") or MeetingPlace.FRONTEN.value
    invitees = ([{"participant_id": p["participant_id"], "required": p["required"]}
                 for p in moving["participants"]] if moving else _invitees(ctx, pathway))
    grid, grid_problem = None, None
    if lead and pathway.get("tovholder_id") and "meetings" not in pathway.get("withheld", []):
        try:
            proposal = ctx.call(
                "coordination", "propose_slots", pathway_id=pathway["pathway_id"],
                length_minutes=length,
                horizon_start=local_midnight(monday).astimezone(dt.UTC).isoformat(),
                horizon_end=local_midnight(monday + dt.timedelta(days=5)).astimezone(
                    dt.UTC).isoformat(),
                participants=invitees, limit=GRID_SLOTS, max_per_day=PER_DAY,
                meeting_id=moving["meeting_id"] if moving else None)
            slots = list(proposal.get("slots", []))
        except RpcProblem as problem:
            if problem.status != 400:
                raise
            slots = []
            grid_problem = "; ".join(danish.error_text(e) for e in problem.errors)
        grid = week_grid(monday, slots, _busy_times(
            ctx, pathway, monday, names, moving["meeting_id"] if moving else None), ctx.now)
    chosen = {i["participant_id"]: "required" if i["required"] else "optional" for i in invitees}
    return ctx.render(
        "pathways/meetings.html", status=status, pathway=pathway, lead=lead, names=names,
        planned=planned,
        past=[m for m in pathway.get("meetings") or [] if m["status"] != "planned"],
        moving=moving, grid=grid, grid_problem=grid_problem, length=length, place=place,
        lengths=[(str(n), f"{n} minutter") for n in LENGTHS],
        places=[(p.value, danish.label("meeting_place", p.value)) for p in MeetingPlace],
        invitable=_invitable(pathway), chosen=chosen, invitees=invitees,
        invite_options=[(c, danish.label("invite", c)) for c in INVITE],
        previous_week=_query(ctx, uge=(monday - dt.timedelta(days=7)).isoformat()),
        next_week=_query(ctx, uge=(monday + dt.timedelta(days=7)).isoformat()),
        back=_query(ctx), monday=monday, errors=errors or {}, values=values or {},
        open_form=open_form, labels=AVAILABILITY_LABELS,
        members=[(m["member_id"], f"{m['name']} ({m['role']})")
                 for m in pathway.get("members") or [] if m["active"]],
        participants=[(m["member_id"], m["name"]) for m in pathway.get("members") or []
                      if m["active"]] + [(n["person_id"], f"{n['name']} ({n['relation']})")
                                         for n in pathway.get("network") or []]
        + [(pathway["citizen_ref"], "Borgeren")],
        weekdays=[(c, danish.label("weekday", c)) for c in WEEKDAY_CODES[:5]],
        today=today(ctx))


@page("/borgerforloeb/<pathway_id>/moeder", roles=PATHWAY_STAFF)
def meetings(ctx: WebContext) -> Response:
    return render_meetings(ctx)


def _back(ctx: WebContext) -> str:
    """The meetings page as the tovholder left it (their week and choices)."""
    query = ctx.form.get("tilbage", "")
    query = "&".join(p for p in query.split("&") if not p.startswith(("flyt=", "besked=")))
    return f"/borgerforloeb/{ctx.args['pathway_id']}/moeder" + (f"?{query}" if query else "")


def _refused(ctx: WebContext, problem: RpcProblem, fields: dict[str, str],
             open_form: str | None = None, values: dict[str, Any] | None = None) -> Response:
    """A refused form: the meetings page again, each error next to its field (a meeting
    or person that is gone is named in the summary)."""
    if problem.status not in (400, 404):
        raise problem
    return render_meetings(ctx, status=400, errors=field_errors(problem, fields),
                           open_form=open_form, values=values)


def _ends(starts_at: str, length: int) -> str:
    return (dt.datetime.fromisoformat(starts_at) + dt.timedelta(minutes=length)).isoformat()


@page("/borgerforloeb/<pathway_id>/moeder", methods=("POST",), roles=TOVHOLDER)
def schedule_meeting(ctx: WebContext) -> Response:
    """The tovholder picked a slot: the meeting is scheduled, and the invitations go out
    (coordination's meeting_scheduled, sent by notifications)."""
    form = ctx.form
    starts_at = form.get("starts_at", "")
    optional = set(form.getlist("valgfri"))
    participants = [{"participant_id": pid, "required": pid not in optional}
                    for pid in form.getlist("deltager")]
    try:
        ends_at = _ends(starts_at, _length(form.get("laengde")))
        ctx.call("coordination", "schedule_meeting", pathway_id=ctx.args["pathway_id"],
                 starts_at=starts_at, ends_at=ends_at, place=form.get("sted") or None,
                 participants=participants)
    except ValueError:
        return render_meetings(ctx, status=400, errors={"_form": "Vælg en tid i ugeoversigten."})
    except RpcProblem as problem:
        return _refused(ctx, problem, {})
    return ctx.redirect(_back(ctx),
                        notice=f"Mødet er planlagt {danish.datetime(starts_at)}. "
                               "Invitationerne er sendt.")


@page("/borgerforloeb/<pathway_id>/moeder/<meeting_id>/flyt", methods=("POST",), roles=TOVHOLDER)
def reschedule_meeting(ctx: WebContext) -> Response:
    """A new time for a planned meeting, picked on the grid; everyone is told."""
    form = ctx.form
    starts_at = form.get("starts_at", "")
    try:
        ends_at = _ends(starts_at, _length(form.get("laengde")))
        ctx.call("coordination", "reschedule_meeting", meeting_id=ctx.args["meeting_id"],
                 starts_at=starts_at, ends_at=ends_at, reason=form.get("reason", ""))
    except ValueError:
        return render_meetings(ctx, status=400, errors={"_form": "Vælg en tid i ugeoversigten."})
    except RpcProblem as problem:
        return _refused(ctx, problem, {"reason": "reason"})
    return ctx.redirect(_back(ctx),
                        notice=f"Mødet er flyttet til {danish.datetime(starts_at)}. "
                               "Deltagerne får besked.")


@page("/borgerforloeb/<pathway_id>/moeder/<meeting_id>/aflys", methods=("POST",), roles=TOVHOLDER)
def cancel_meeting(ctx: WebContext) -> Response:
    reason = ctx.form.get("cancel-reason", "")
    try:
        ctx.call("coordination", "cancel_meeting", meeting_id=ctx.args["meeting_id"],
                 reason=reason)
    except RpcProblem as problem:
        return _refused(ctx, problem, {"reason": "cancel-reason"},
                        open_form="cancel-" + ctx.args["meeting_id"],
                        values={"cancel-reason": reason})
    return ctx.redirect(_back(ctx),
                        notice="Mødet er aflyst. Deltagerne får besked.")


@page("/borgerforloeb/<pathway_id>/moeder/<meeting_id>/holdt", methods=("POST",), roles=TOVHOLDER)
def record_meeting_held(ctx: WebContext) -> Response:
    """Who came and what was decided (the continuity figure counts it)."""
    present = ctx.form.getlist("held-present")
    decisions = [line.strip() for line in ctx.form.get("held-decisions", "").splitlines()
                 if line.strip()]
    try:
        ctx.call("coordination", "record_meeting_held", meeting_id=ctx.args["meeting_id"],
                 present=present, decisions=decisions)
    except RpcProblem as problem:
        return _refused(ctx, problem, {"present": "held-present", "decisions": "held-decisions",
                                       "meeting": "held-present"},
                        open_form="held-" + ctx.args["meeting_id"])
    return ctx.redirect(_back(ctx), notice="Mødet er registreret som holdt.")


# -- availability --------------------------------------------------------------------------


def local_moment(day: str, time_of_day: str | None) -> str:
    """A Copenhagen date and clock time as the contract's aware time; what cannot be
    read is passed on as typed, and the contract names it."""
    try:
        moment = dt.datetime.combine(dt.date.fromisoformat(day.strip()),
                                     dt.time.fromisoformat(time_of_day or "00:00"),
                                     tzinfo=COPENHAGEN)
    except ValueError:
        return f"{day} {time_of_day or ''}".strip()
    return moment.astimezone(dt.UTC).isoformat()


@page("/borgerforloeb/<pathway_id>/tilgaengelighed/arbejdstid", methods=("POST",),
      roles=TOVHOLDER)
def set_working_hours(ctx: WebContext) -> Response:
    """A team member's weekly hours: one window a weekday; a day left empty is off."""
    form = ctx.form
    member = form.get("hours-member", "")
    values: dict[str, Any] = {k: form.get(k, "") for k in form if k.startswith("hours-")}
    days: list[dict[str, str]] = []
    where: dict[str, str] = {}
    for code in WEEKDAY_CODES[:5]:
        start = clock_time(form.get(f"hours-{code}-start", ""))
        end = clock_time(form.get(f"hours-{code}-end", ""))
        if start or end:
            where[f"days.{len(days)}"] = f"hours-{code}"
            days.append({"weekday": code, "start": start or "", "end": end or ""})
    try:
        ctx.call("coordination", "set_working_hours", member_id=member, days=days)
    except RpcProblem as problem:
        errors: dict[str, str] = {}
        for error in problem.errors:
            parts = str(error.get("field", "")).split(".")
            prefix = ".".join(parts[:2])
            target = (f"{where[prefix]}-{parts[2]}" if prefix in where and len(parts) == 3
                      else "hours-member")
            errors.setdefault(target, danish.error_text(error))
        if problem.status not in (400, 404):
            raise
        return render_meetings(ctx, status=400, errors=errors, open_form="hours", values=values)
    name = names_of(pathway_of(ctx) or {"citizen_ref": ""}).get(member, "Arbejdstiden")
    return ctx.redirect(_back(ctx),
                        notice=f"Arbejdstiden for {name} er gemt.")


@page("/borgerforloeb/<pathway_id>/tilgaengelighed/optaget", methods=("POST",), roles=TOVHOLDER)
def add_busy_block(ctx: WebContext) -> Response:
    """A time a participant cannot meet (only the time is kept)."""
    form = ctx.form
    values = {k: form.get(k, "") for k in ("busy-participant", "busy-date", "busy-start",
                                           "busy-end")}
    starts_at = local_moment(values["busy-date"], clock_time(values["busy-start"]))
    ends_at = local_moment(values["busy-date"], clock_time(values["busy-end"]))
    try:
        ctx.call("coordination", "add_busy_block", participant_id=values["busy-participant"],
                 starts_at=starts_at, ends_at=ends_at)
    except RpcProblem as problem:
        return _refused(ctx, problem, {"participant_id": "busy-participant",
                                       "starts_at": "busy-start", "ends_at": "busy-end",
                                       "busy": "busy-end", "actor": "busy-participant"},
                        open_form="busy", values=values)
    who = names_of(pathway_of(ctx) or {"citizen_ref": ""}).get(values["busy-participant"],
                                                              "Deltageren")
    return ctx.redirect(_back(ctx),
                        notice=f"{who} er optaget {danish.datetime(starts_at)} til "
                               f"kl. {danish.time_of_day(ends_at)}.")


@page("/borgerforloeb/<pathway_id>/tilgaengelighed/ferie", methods=("POST",), roles=TOVHOLDER)
def add_holiday(ctx: WebContext) -> Response:
    """A holiday (ferie): whole days, from the first to the last, as one busy block."""
    form = ctx.form
    values = {k: form.get(k, "") for k in ("ferie-participant", "ferie-from", "ferie-to")}
    starts_at = local_moment(values["ferie-from"], None)
    try:
        after = (dt.date.fromisoformat(values["ferie-to"].strip())
                 + dt.timedelta(days=1)).isoformat()
    except ValueError:
        after = values["ferie-to"]
    ends_at = local_moment(after, None)
    try:
        ctx.call("coordination", "add_busy_block", participant_id=values["ferie-participant"],
                 starts_at=starts_at, ends_at=ends_at)
    except RpcProblem as problem:
        return _refused(ctx, problem, {"participant_id": "ferie-participant",
                                       "starts_at": "ferie-from", "ends_at": "ferie-to",
                                       "busy": "ferie-to", "actor": "ferie-participant"},
                        open_form="ferie", values=values)
    who = names_of(pathway_of(ctx) or {"citizen_ref": ""}).get(values["ferie-participant"],
                                                              "Deltageren")
    return ctx.redirect(_back(ctx),
                        notice=f"{who} holder ferie fra {danish.date(values['ferie-from'])} "
                               f"til og med {danish.date(values['ferie-to'])}.")
