"""The housing officers' screens: rent-arrears cases on the legal clock.

- `/boligsager`: the officers' list (housing's `case_worklist`), the cases where § 81 a
  help would come after the påkrav deadline first, then by the nearest deadline; each
  line with its deadline, days left, the påkrav deadline and the next step in Danish.
- `/boligsager/<case_id>`: one case for the municipality's staff (housing officers,
  Fronten, the citizen's tovholder: the service decides who sees it): its rung on the
  ladder, its deadlines, the request to the boligforening to hold the ophævelse and the
  boligforening's answer (the partners hand-off and its history), and the steps officers
  register (contact, payment plan, help, termination, eviction date, paid in full,
  close). A boligforening opening the same address is sent to its own view of the case.

Every rule is the housing service's: this module reads the form, calls the RPC and
shows what it answers (refusals next to the step that was refused).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import Closure, LadderLevel
from services.common.localtime import COPENHAGEN, local_day
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.worklists import register_worklist, subject_page

R = StaffRole
# Who reads the officers' list (as the gateway's route): housing officers and Fronten,
# which owns the cases of citizens without a tovholder.
LIST_READERS = {R.HOUSING_OFFICER, R.FRONTEN}
# Who opens a case and registers its steps; the service narrows it to the cases each
# may see (a tovholder: the cases of their own citizens). Partners are sent on.
CASE_READERS = {R.HOUSING_OFFICER, R.FRONTEN, R.TOVHOLDER, R.PARTNER}
PAGE_ITEMS = 25

menu_item("Huslejesager", "/boligsager", LIST_READERS, order=40)
# Items of the officers' list and of a boligforening's list (`arrears_case`), and the
# tovholder's housing warnings (`housing_case`) all lead to the case.
subject_page("arrears_case", "/boligsager/{subject_id}")
subject_page("housing_case", "/boligsager/{subject_id}")
register_worklist(
    "afviste-indberetninger", "Afviste indberetninger fra boligforeninger",
    {R.HOUSING_OFFICER, R.OPERATOR}, "housing", "refused_reports",
    "Ingen indberetninger er afvist.",
    "Indberetninger om lejemål, der ikke er registreret til boligforeningen. Registrér "
    "lejemålet, eller opret sagen fra Fronten, hvis lejeren er i fare for at miste boligen.",
    after="boligsager")

danish.add_labels("housing_level", {
    "reported": "Restance meldt",
    "outreach_due": "Borgeren skal kontaktes",
    "escalated_to_association": "Boligforeningen bedt om at vente",
    "termination_urgent": "Lejemålet er ophævet",
    "eviction_emergency": "Udsættelse fastsat",
})
danish.add_labels("housing_level_help", {
    "reported": "Restancen er kendt og følges.",
    "outreach_due": "Borgeren skal kontaktes straks.",
    "escalated_to_association": "Ingen plan før fristen: boligforeningen bedes vente med at "
                                "ophæve lejemålet.",
    "termination_urgent": "Det boligsociale team skal handle straks.",
    "eviction_emergency": "En nødboligplan skal være klar før udsættelsen.",
})
danish.add_labels("housing_deadline", {
    "outreach": "Kontakt borgeren",
    "pakrav": "Afdragsordning eller bevilget hjælp inden påkravsfristen",
    "hold_expires": "Boligforeningens venteperiode slutter",
    "help_decision": "Ansøgningen om hjælp forventes afgjort",
    "termination_response": "Inddrag det boligsociale team",
    "emergency_plan": "Nødboligplanen skal være klar",
})
danish.add_labels("housing_source", {
    "association": "Boligforeningen", "fogedret": "Fogedretten", "fronten": "Fronten",
})
danish.add_labels("housing_closure", {
    "tenancy_kept": "Restancen er betalt, og borgeren beholder sin bolig",
    "tenancy_lost": "Borgeren har mistet lejemålet",
    "tenancy_ended": "Lejemålet er ophørt",
})
danish.add_labels("payment_plan", {
    "proposed": "Foreslået", "agreed": "Aftalt", "broken": "Brudt",
})
danish.add_labels("help_status", {
    "applied": "Søgt, venter på afgørelse", "granted": "Bevilget", "refused": "Afslået",
})
danish.add_labels("help_paragraph", {
    "aktivloven_81a": "Aktivlovens § 81 a",
    "aktivloven_81b": "Aktivlovens § 81 b (unge under 30, op til 6 måneder)",
})
danish.add_labels("hold_answer", {
    "granted": "Boligforeningen venter med at ophæve lejemålet",
    "refused": "Boligforeningen har afvist at vente",
    "paid": "Boligforeningen oplyser, at restancen er betalt",
})
danish.add_labels("housing_flag", {
    "processing_exceeds_pakrav_deadline":
        "Da påkravet blev meldt, kunne hjælp efter aktivlovens § 81 a ikke nå at blive "
        "afgjort før påkravsfristen. Aftal en afdragsordning, eller bed boligforeningen om "
        "at vente.",
    "pakrav_deadline_shorter_than_legal":
        "Påkravets frist er kortere end de 14 dage, loven giver lejeren.",
})
danish.add_labels("housing_status", {"open": "Åbne sager", "closed": "Lukkede sager"})
danish.add_rule_texts({
    "housing.case_closed": "Sagen er lukket. Der kan ikke registreres mere på den.",
    "housing.payment_plan_already_agreed": "Der er allerede aftalt en afdragsordning.",
    "housing.no_agreed_payment_plan": "Der er ingen aftalt afdragsordning, der kan brydes.",
    "housing.help_already_applied_for": "Der er allerede søgt om hjælp. Vent på afgørelsen.",
    "housing.no_pending_help_application": "Der er ingen ansøgning om hjælp, der venter på "
                                           "afgørelse.",
    "housing.help_months_not_applicable": "Antal måneder angives kun ved hjælp efter § 81 b.",
    "housing.no_termination_to_withdraw": "Der er ingen ophævelse registreret.",
    "housing.no_eviction_to_resolve": "Der er ingen udsættelse registreret.",
    "housing.no_eviction_date": "Der er ingen dato for udsættelse registreret.",
    "housing.deescalation_skips_step": "Sagen kan kun rykke ét trin ned ad gangen: "
                                       "registrér først, at udsættelsen er afblæst, eller "
                                       "at ophævelsen er trukket tilbage.",
    "housing.tenancy_kept_requires_payment": "Borgeren beholder kun boligen, når restancen "
                                             "er betalt: brug \"Restancen er betalt\".",
    "housing.termination_in_future": "En ophævelse kan ikke registreres før den dag, den "
                                     "sker.",
    "housing.eviction_date_in_past": "Datoen for udsættelsen er passeret. Luk sagen i "
                                     "stedet.",
    "housing.tenant_unidentified": "Lejeren er ikke fundet endnu. Fronten skal finde "
                                   "borgeren først.",
    "housing.worklist_status_unknown": "Vælg åbne eller lukkede sager.",
    "not_allowed": "Din rolle giver ikke adgang til at gøre dette.",
})


def kroner(amount: str | None) -> str:
    """An amount as Danes write it: "12.500,00 kr." (sent as a decimal string)."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return ""
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{text} kr."


# -- the officers' list ---------------------------------------------------------------------


def _list_filters(ctx: WebContext) -> dict[str, str]:
    args = ctx.request.args
    return {"status": args.get("status", "open") or "open", "level": args.get("level", "")}


@page("/boligsager", roles=LIST_READERS)
def cases(ctx: WebContext) -> Response:
    filters = _list_filters(ctx)
    call_args: dict[str, Any] = {"limit": PAGE_ITEMS, "status": filters["status"]}
    if filters["level"]:
        call_args["level"] = filters["level"]
    if ctx.request.args.get("cursor"):
        call_args["cursor"] = ctx.request.args["cursor"]
    result: dict[str, Any] = {"items": [], "next_cursor": None}
    errors: dict[str, str] = {}
    problem = None
    try:
        result = ctx.call("housing", "case_worklist", **call_args)
    except RpcProblem as refused:
        if refused.status != 400:
            problem = "Listen kan ikke hentes lige nu. Prøv igen om lidt."
        else:
            errors = refused.by_field()
    associations = {item["details"].get("association_id") for item in result.get("items", [])}
    names = {a: _association_name(ctx, a) for a in sorted(associations - {None})}
    return ctx.render(
        "housing/cases.html", result=result, filters=filters, errors=errors,
        problem=problem, names=names, kroner=kroner,
        levels=[(level.value, danish.label("housing_level", level.value))
                for level in LadderLevel],
        statuses=[(s, danish.label("housing_status", s)) for s in ("open", "closed")],
        more_url=_more_url(filters, result.get("next_cursor")), fragment="rows")


def _more_url(filters: dict[str, str], cursor: str | None) -> str | None:
    if not cursor:
        return None
    query = {k: v for k, v in filters.items() if v}
    query["cursor"] = cursor
    return "/boligsager?" + urlencode(query)


# -- one case --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A step officers register on a case: its address, RPC, button and fields."""

    slug: str
    rpc: str
    button: str
    notice: str
    fields: tuple[str, ...] = ()


COMMAND_GROUPS: tuple[tuple[str, str, tuple[Command, ...]], ...] = (
    ("kontakt", "Kontakt med borgeren", (
        Command("kontakt", "record_contact", "Borgeren er kontaktet",
                "Kontakten med borgeren er registreret."),
    )),
    ("afdragsordning", "Afdragsordning", (
        Command("afdragsordning-foreslaaet", "propose_payment_plan",
                "Afdragsordning er foreslået", "Forslaget om afdragsordning er registreret."),
        Command("afdragsordning-aftalt", "agree_payment_plan", "Afdragsordning er aftalt",
                "Afdragsordningen er registreret som aftalt."),
        Command("afdragsordning-brudt", "break_payment_plan", "Afdragsordningen er brudt",
                "Det er registreret, at afdragsordningen er brudt."),
    )),
    ("hjaelp", "Hjælp efter aktivloven", (
        Command("hjaelp-soegt", "apply_for_help", "Hjælp er søgt",
                "Ansøgningen om hjælp er registreret.", ("paragraph",)),
        Command("hjaelp-bevilget", "grant_help", "Hjælpen er bevilget",
                "Det er registreret, at hjælpen er bevilget.", ("months",)),
        Command("hjaelp-afslaaet", "refuse_help", "Hjælpen er afslået",
                "Det er registreret, at hjælpen er afslået."),
    )),
    ("ophaevelse", "Ophævelse og udsættelse", (
        Command("ophaevelse", "register_termination", "Registrér ophævelsen",
                "Ophævelsen er registreret.", ("termination_on",)),
        Command("ophaevelse-trukket-tilbage", "withdraw_termination",
                "Ophævelsen er trukket tilbage",
                "Det er registreret, at ophævelsen er trukket tilbage."),
        Command("udsaettelse", "set_eviction_date", "Registrér datoen for udsættelse",
                "Datoen for udsættelsen er registreret.", ("eviction_date",)),
        Command("noedboligplan", "record_emergency_housing_plan", "Nødboligplanen er lavet",
                "Nødboligplanen er registreret."),
        Command("udsaettelse-afblaest", "resolve_eviction", "Udsættelsen er afblæst",
                "Det er registreret, at udsættelsen er afblæst."),
    )),
    ("afslutning", "Afslut sagen", (
        Command("betalt", "record_paid_in_full", "Restancen er betalt",
                "Betalingen er registreret."),
        Command("luk", "close_case", "Luk sagen", "Sagen er lukket.", ("closure",)),
    )),
)
COMMANDS = {c.slug: c for _, _, group in COMMAND_GROUPS for c in group}
FIELD_LABELS = {"paragraph": "Hvilken hjælp er søgt?",
                "months": "Antal måneder (kun § 81 b)",
                "termination_on": "Dato for ophævelsen",
                "eviction_date": "Dato for udsættelsen",
                "closure": "Hvordan sluttede sagen?"}
CLOSURES = [(c.value, danish.label("housing_closure", c.value))
            for c in (Closure.TENANCY_LOST, Closure.TENANCY_ENDED)]
PARAGRAPHS = [(p, danish.label("help_paragraph", p)) for p in ("aktivloven_81a",
                                                                "aktivloven_81b")]


def _case(ctx: WebContext) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("housing", "get_case", case_id=ctx.args["case_id"]))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def _handoffs(ctx: WebContext, case_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """The case's hand-offs the person may know of (the hold request to the association)."""
    try:
        found = ctx.call("partners", "handoffs_of_subject", subject_type="case",
                         subject_id=case_id)
    except RpcProblem as problem:
        if problem.status >= 500:
            return [], "Anmodningen til boligforeningen kan ikke hentes lige nu."
        return [], None
    return list(found.get("items", [])), None


def _association_name(ctx: WebContext, association_id: str | None) -> str | None:
    if not association_id:
        return None
    try:
        return str(ctx.call("partners", "get_partner", partner_id=association_id)["name"])
    except RpcProblem:
        return None


def last_day(due: str | dt.datetime) -> dt.date:
    """The last Copenhagen day on which a deadline due at `due` is met: a date deadline
    is stored as the next midnight, so the day before it (as housing's list shows it)."""
    moment = dt.datetime.fromisoformat(due) if isinstance(due, str) else due
    return (moment - dt.timedelta(microseconds=1)).astimezone(COPENHAGEN).date()


def _deadlines(case: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for deadline in case.get("deadlines") or []:
        day = last_day(deadline["due"])
        rows.append({"kind": deadline["kind"], "due_on": day.isoformat(),
                     "days_left": (day - today).days, "overdue": day < today})
    return rows


def _ladder(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The rungs, lowest first: where the case is now, and the higher rungs it has been
    on before (it came down)."""
    levels = [level.value for level in LadderLevel]
    current = levels.index(case["level"]) if case.get("level") in levels else -1
    highest = levels.index(case["highest_level"]) if case.get("highest_level") in levels \
        else current
    return [{"code": code, "number": i + 1,
             "current": bool(case.get("is_open")) and i == current,
             "been_here": current < i <= highest} for i, code in enumerate(levels)]


def _render_case(ctx: WebContext, case: dict[str, Any], *, status: int = 200,
                 errors: dict[str, str] | None = None, failed: str | None = None,
                 values: dict[str, Any] | None = None) -> Response:
    today = local_day(ctx.now)
    handoffs, handoff_problem = _handoffs(ctx, str(case["case_id"]))
    pakrav = case.get("pakrav_deadline")
    return ctx.render("housing/case.html", status=status, case=case, today=today,
        ladder=_ladder(case), deadlines=_deadlines(case, today),
        pakrav_days_left=(dt.date.fromisoformat(pakrav[:10]) - today).days if pakrav else None,
        association_name=_association_name(ctx, case.get("association_id")),
        handoffs=handoffs, handoff_problem=handoff_problem,
        groups=COMMAND_GROUPS, may_change=case.get("is_open") and not ctx.identity.is_partner,
        errors=errors or {}, failed=failed, values=values or {}, labels=FIELD_LABELS,
        closures=CLOSURES, paragraphs=PARAGRAPHS, who=_who_of(ctx, handoffs), kroner=kroner,
        from_list=ctx.has_role(*LIST_READERS))


def _who_of(ctx: WebContext, handoffs: list[dict[str, Any]]) -> dict[str, str]:
    """Who an actor label in a hand-off's history is, in words."""
    names: dict[str, str] = {"service:partners": "Samspil (automatisk)"}
    for handoff in handoffs:
        names[f"partner:{handoff.get('partner_id')}"] = str(handoff.get("partner_name"))
    if ctx.ops is not None:
        for person in ctx.ops.staff():
            names[f"staff:{person['staff_id']}"] = str(person["name"])
    return names


@page("/boligsager/<case_id>", roles=CASE_READERS)
def case_page(ctx: WebContext) -> Response:
    if ctx.identity.is_partner:  # a boligforening sees its own view of its cases
        return ctx.redirect(f"/partner/sager/{ctx.args['case_id']}")
    case = _case(ctx)
    if case is None:
        return ctx.render("error.html", status=404, title="Sagen findes ikke",
                          text="Måske er adressen forkert, eller også har du ikke adgang til "
                               "sagen. Find sagen på din arbejdsliste.")
    return _render_case(ctx, case)


DATE_FIELDS = ("termination_on", "eviction_date")


def date_from_form(form: Any, field: str) -> tuple[str | None, dict[str, str]]:
    """A DKFDS date input's three boxes (<field>-day, -month, -year) as an ISO date for
    the service's contract to check (None when all are empty), and the boxes as typed."""
    parts = {part: form.get(f"{field}-{part}", "").strip() for part in ("day", "month", "year")}
    if not any(parts.values()):
        return None, parts
    if all(value.isdigit() for value in parts.values()):
        return (f"{int(parts['year']):04d}-{int(parts['month']):02d}-"
                f"{int(parts['day']):02d}"), parts
    return f"{parts['year']}-{parts['month']}-{parts['day']}", parts


def _command_args(command: Command, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The RPC's arguments from the form (as typed: the service's contract checks
    them), and the values to show again if it refuses."""
    args: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name in command.fields:
        if name in DATE_FIELDS:
            args[name], values[name] = date_from_form(form, name)
            continue
        values[name] = form.get(name, "").strip()
        args[name] = values[name] or None
    if str(values.get("months", "")).isdigit():
        args["months"] = int(values["months"])
    return args, values


@page("/boligsager/<case_id>/<command>", methods=("POST",),
      roles={R.HOUSING_OFFICER, R.FRONTEN, R.TOVHOLDER})
def register_step(ctx: WebContext) -> Response:
    command = COMMANDS.get(ctx.args["command"])
    if command is None:
        return ctx.render("error.html", status=404, title="Siden findes ikke",
                          text="Gå tilbage til sagen, og vælg et af trinene.")
    args, values = _command_args(command, ctx.form)
    case_id = ctx.args["case_id"]
    try:
        ctx.call("housing", command.rpc, case_id=case_id, **args)
    except RpcProblem as problem:
        if problem.status not in (400, 409):
            if problem.status == 404:
                return ctx.render("error.html", status=404, title="Sagen findes ikke",
                                  text="Sagen findes ikke, eller du har ikke adgang til den.")
            raise
        case = _case(ctx)
        if case is None:
            return ctx.render("error.html", status=404, title="Sagen findes ikke",
                              text="Sagen findes ikke, eller du har ikke adgang til den.")
        return _render_case(ctx, case, status=400, errors=problem.by_field(),
                            failed=command.slug, values=values)
    return ctx.redirect(f"/boligsager/{case_id}", notice=command.notice)
