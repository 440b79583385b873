"""The partners' screens (signed in as their partner: `kab`, `jobcenter`), and the
hand-off page staff open from their lists.

- `/partner/anmodninger`: the partner's own hand-offs (partners' `partner_handoffs`),
  open ones first by the day an answer is due.
- `/overdragelser/<handoff_id>`: one hand-off. A partner reads what is asked, by when
  and whom to contact, and answers with the answers its state allows: a housing
  association holds the ophævelse until a day, refuses (with a reason) or says the tenant
  paid; a jobcenter accepts or declines (with a reason). Staff who may know of the
  hand-off read it with its history.
- `/partner/sager` and `/partner/sager/<case_id>`: a housing association's own
  rent-arrears cases (housing's `association_cases` and `get_case`, which answer a
  partner with its own view only: never the tenant or the amount).

The services decide who sees and answers what; this module only reads the form and
shows the answer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.pages.housing import date_from_form
from services.web.worklists import register_worklist, subject_page

R = StaffRole
PARTNER = {R.PARTNER}
# Staff who follow hand-offs (as the gateway's route); each sees those the service lets
# them know of (the partners service's need-to-know).
HANDOFF_STAFF = {R.FRONTEN, R.SOCIAL_VEJLEDNING, R.HOUSING_OFFICER, R.TOVHOLDER,
                 R.COORDINATOR}
PAGE_ITEMS = 25

menu_item("Anmodninger", "/partner/anmodninger", PARTNER, order=20)
menu_item("Huslejesager", "/partner/sager", PARTNER, order=30)
subject_page("handoff", "/overdragelser/{subject_id}")
register_worklist("anmodninger", "Anmodninger fra kommunen", PARTNER, "partners",
                  "partner_handoffs", "Ingen anmodninger venter på jer.",
                  "Åbne anmodninger først, med den tidligste svarfrist øverst.")
register_worklist("vores-huslejesager", "Jeres huslejesager", PARTNER, "housing",
                  "association_cases", "Ingen åbne huslejesager.",
                  "Den dato, der betyder noget for jer, står først.")

# What a partner may answer, in its own words: by the kind of request where it matters.
_HOLD = "hold_termination"
ANSWER_TEXTS = {
    "received": "Vi har set anmodningen og svarer senere",
    "accepted": "Ja, vi tager imod borgeren",
    "declined": "Nej, vi kan ikke (skriv hvorfor)",
    "in_progress": "Det er gået i gang",
    "completed": "Det er afsluttet (vælg udfaldet)",
}
HOLD_ANSWER_TEXTS = {
    **ANSWER_TEXTS,
    "accepted": "Vi venter med at ophæve lejemålet (skriv til og med hvilken dag)",
    "declined": "Vi kan ikke vente med at ophæve lejemålet (skriv hvorfor)",
    "completed": "Sagen er afsluttet, fx fordi lejeren har betalt (vælg udfaldet)",
}
danish.add_labels("handoff_outcome", {
    "started": "Borgeren er startet", "not_started": "Borgeren startede ikke",
    "enrolled": "Borgeren er optaget", "not_enrolled": "Borgeren blev ikke optaget",
    "withdrawn": "Trukket tilbage",
    "held": "Vi ventede, og lejemålet blev ikke ophævet",
    "paid": "Lejeren har betalt restancen", "terminated": "Lejemålet er ophævet",
    "granted": "Støtte efter § 85 er bevilget", "refused": "Støtte efter § 85 er afslået",
})
danish.add_labels("association_request", {
    "for_information": "Intet lige nu. Sagen er til jeres orientering.",
    "hold_termination": "Vent med at ophæve lejemålet, mens kommunen hjælper lejeren.",
    "hold_eviction": "Vent med at begære udsættelse, mens kommunen hjælper lejeren.",
    "postpone_eviction": "Udsæt udsættelsen, mens kommunen laver en plan for lejeren.",
})
danish.add_labels("association_hold_answer", {
    "granted": "I venter med at ophæve lejemålet",
    "refused": "I har svaret, at I ikke kan vente med at ophæve lejemålet",
    "paid": "I har oplyst, at lejeren har betalt restancen",
})
danish.add_rule_texts({
    "handoff.transition_not_allowed": "Det svar kan ikke gives nu. Vælg et af de svar, der "
                                      "står på siden.",
    "handoff.partner_cannot_cancel": "I kan ikke annullere en anmodning. Afvis den, og skriv "
                                     "hvorfor.",
    "handoff.reason_missing": "Skriv, hvorfor I ikke kan.",
    "handoff.reason_not_expected": "Skriv kun en begrundelse, når I siger nej. Brug feltet "
                                   "Bemærkning til andet.",
    "handoff.outcome_missing": "Vælg, hvordan det endte.",
    "handoff.outcome_unknown": "Vælg et af udfaldene på listen.",
    "handoff.outcome_not_expected": "Vælg kun et udfald, når det er afsluttet.",
    "handoff.hold_until_missing": "Skriv, til og med hvilken dag I venter.",
    "handoff.hold_until_past": "Dagen er passeret. Vælg i dag eller en senere dag.",
    "handoff.hold_until_not_expected": "Angiv kun en dag, når I venter med at ophæve "
                                       "lejemålet.",
})
ANSWER_LABELS = {"state": "Jeres svar", "hold_until": "Til og med hvilken dag venter I?",
                 "reason": "Hvorfor kan I ikke?", "outcome": "Hvordan endte det?",
                 "note": "Bemærkning til kommunen"}
ANSWER_FIELDS = ("state", "hold_until", "reason", "outcome", "note")


# -- lists --------------------------------------------------------------------------------


def _page(ctx: WebContext, service: str, rpc: str, **args: Any
          ) -> tuple[dict[str, Any], str | None]:
    if ctx.request.args.get("cursor"):
        args["cursor"] = ctx.request.args["cursor"]
    try:
        return dict(ctx.call(service, rpc, limit=PAGE_ITEMS, **args)), None
    except RpcProblem as problem:
        message = ("Listen kan ikke hentes lige nu. Prøv igen om lidt."
                   if problem.status >= 500 else "Listen kunne ikke vises. Start forfra.")
        return {"items": [], "next_cursor": None}, message


def _more(path: str, cursor: str | None, **query: str) -> str | None:
    if not cursor:
        return None
    return f"{path}?{urlencode({**query, 'cursor': cursor})}"


@page("/partner/anmodninger", roles=PARTNER)
def handoffs(ctx: WebContext) -> Response:
    result, problem = _page(ctx, "partners", "partner_handoffs")
    return ctx.render("partner/handoffs.html", result=result, problem=problem,
                      more_url=_more("/partner/anmodninger", result.get("next_cursor")),
                      fragment="rows")


@page("/partner/sager", roles=PARTNER)
def cases(ctx: WebContext) -> Response:
    status = "closed" if ctx.request.args.get("status") == "closed" else "open"
    result, problem = _page(ctx, "housing", "association_cases", status=status)
    return ctx.render("partner/cases.html", result=result, problem=problem, list_status=status,
                      more_url=_more("/partner/sager", result.get("next_cursor"),
                                     status=status),
                      fragment="rows")


# -- one case of a housing association ---------------------------------------------------------


def _open_hold_request(ctx: WebContext, case_id: str) -> dict[str, Any] | None:
    """The association's open request to hold the case's ophævelse, if there is one (its
    open hand-offs come first on its list)."""
    try:
        found = ctx.call("partners", "partner_handoffs", limit=200)
    except RpcProblem:
        return None
    for item in found.get("items", []):
        details = item.get("details") or {}
        if (details.get("kind") == _HOLD and details.get("open")
                and str((details.get("details") or {}).get("case_ref")) == case_id):
            return dict(details)
    return None


@page("/partner/sager/<case_id>", roles=PARTNER)
def case_page(ctx: WebContext) -> Response:
    case_id = ctx.args["case_id"]
    try:
        case = dict(ctx.call("housing", "get_case", case_id=case_id))
    except RpcProblem as problem:
        if problem.status not in (400, 404):
            raise
        return ctx.render("error.html", status=404, title="Sagen findes ikke",
                          text="Tjek adressen, eller find sagen på jeres liste over "
                               "huslejesager.")
    return ctx.render("partner/case.html", case=case,
                      request=_open_hold_request(ctx, case_id))


# -- one hand-off ------------------------------------------------------------------------------


def _handoff(ctx: WebContext) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("partners", "get_handoff", handoff_id=ctx.args["handoff_id"]))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def _answer_options(handoff: dict[str, Any]) -> dict[str, Any]:
    """The answers the hand-off's state allows, in the partner's words."""
    texts = HOLD_ANSWER_TEXTS if handoff.get("kind") == _HOLD else ANSWER_TEXTS
    states = [s for s in handoff.get("next_states", []) if s in texts]
    return {
        "states": [(s, texts[s]) for s in states],
        "outcomes": [(o, danish.label("handoff_outcome", o))
                     for o in handoff.get("outcomes", [])],
        "asks_hold_until": handoff.get("kind") == _HOLD and "accepted" in states,
        "asks_reason": "declined" in states,
        "asks_outcome": "completed" in states,
    }


def _render_handoff(ctx: WebContext, handoff: dict[str, Any], *, status: int = 200,
                    errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> Response:
    if ctx.identity.is_partner:
        return ctx.render("partner/handoff.html", status=status, handoff=handoff,
                          errors=errors or {}, values=values or {}, labels=ANSWER_LABELS,
                          **_answer_options(handoff))
    return ctx.render("partner/handoff_staff.html", status=status, handoff=handoff,
                      who=_who(ctx, handoff))


def _who(ctx: WebContext, handoff: dict[str, Any]) -> dict[str, str]:
    """Who an actor label in the history is, in words."""
    names = {"service:partners": "Samspil (automatisk)",
             f"partner:{handoff.get('partner_id')}": str(handoff.get("partner_name"))}
    if ctx.ops is not None:
        for person in ctx.ops.staff():
            names[f"staff:{person['staff_id']}"] = str(person["name"])
    return names


@page("/overdragelser/<handoff_id>", roles=PARTNER | HANDOFF_STAFF)
def handoff_page(ctx: WebContext) -> Response:
    handoff = _handoff(ctx)
    if handoff is None:
        return ctx.render("error.html", status=404, title="Anmodningen findes ikke",
                          text="Tjek adressen, eller find anmodningen på listen.")
    return _render_handoff(ctx, handoff)


@page("/overdragelser/<handoff_id>/svar", methods=("POST",), roles=PARTNER)
def answer(ctx: WebContext) -> Response:
    values: dict[str, Any] = {name: ctx.form.get(name, "").strip() for name in ANSWER_FIELDS
                              if name != "hold_until"}
    args: dict[str, Any] = {name: value or None for name, value in values.items()}
    args["hold_until"], values["hold_until"] = date_from_form(ctx.form, "hold_until")
    handoff_id = ctx.args["handoff_id"]
    try:
        ctx.call("partners", "answer_handoff", handoff_id=handoff_id, **args)
    except RpcProblem as problem:
        handoff = _handoff(ctx)
        if problem.status not in (400, 409) or handoff is None:
            if handoff is None:
                return ctx.render("error.html", status=404, title="Anmodningen findes ikke",
                                  text="Tjek adressen, eller find anmodningen på listen.")
            raise
        return _render_handoff(ctx, handoff, status=400, errors=problem.by_field(),
                               values=values)
    return ctx.redirect(f"/overdragelser/{handoff_id}", notice="Jeres svar er sendt til kommunen.")
