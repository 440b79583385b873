"""The operator's screens.

- `/drift`: dead letters of every service and events no consumer took (`unrouted`),
  each with its error, and replay; and the partner subscriptions that can deliver
  nothing (notifications' `silent_subscriptions`), each saying why and what to do, with
  the subscription's removal and, for a partner missing from the directory, a link to
  register it.
- `/drift/partnere`: the partner directory (partners' `list_partners`), and
  `/drift/partnere/ny` to register a partner (`register_partner`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import HandoffKind, PartnerCategory
from services.common.deadletters import ReplayFailed
from services.common.errors import NotFound
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.worklists import register_worklist, subject_page

OPERATOR = {StaffRole.OPERATOR}
menu_item("Drift", "/drift", OPERATOR, order=90)
menu_item("Partnere", "/drift/partnere", OPERATOR, order=91)
register_worklist("tavse-abonnementer", "Abonnementer, der ikke kan levere noget", OPERATOR,
                  "notifications", "silent_subscriptions", "Alle abonnementer kan levere.",
                  "Hver linje siger, hvorfor intet når frem, og hvad du skal gøre.")
subject_page("subscription", "/drift#abonnement-{subject_id}")
SERVICE_NAMES = {
    "intake": "Fronten (intake)",
    "coordination": "Borgerforløb (coordination)",
    "housing": "Huslejesager (housing)",
    "notifications": "Udsendelser (notifications)",
    "partners": "Samarbejdspartnere (partners)",
    "unrouted": "Hændelser uden modtager",
}
PAGE_ITEMS = 50

danish.add_labels("partner_category", {
    "employment": "Beskæftigelse (jobcenter)", "education": "Uddannelse",
    "health": "Sundhed og psykiatri", "housing": "Boligforening",
    "social_vejledning": "Social Vejledning (myndighed)", "offer": "Kommunalt tilbud",
    "volunteer": "Frivillig organisation",
})
danish.add_labels("handoff_kind", {
    "bridging_employment": "Brobygning til beskæftigelse",
    "bridging_education": "Brobygning til uddannelse",
    "bridging_health": "Brobygning til sundhed",
    "referral_85": "Henvisning til vurdering efter servicelovens § 85",
    "offer_referral": "Henvisning til et tilbud",
    "hold_termination": "Anmodning om at vente med at ophæve et lejemål",
})
danish.add_labels("subscription_channel", {
    "webhook": "Webhook", "partner_queue": "Partnerens kø", "email": "E-mail", "sms": "SMS",
})
danish.add_labels("event_type", {
    "housing.partner_status": "Status på huslejesager",
    "partners.handoff_requested": "Nye anmodninger",
    "partners.handoff_updated": "Ændringer i anmodninger",
    "intake.bridging_due": "Brobygning",
})
danish.add_rule_texts({
    "partner.exists": "Der er allerede en partner med dette id i kataloget.",
    "partner.kind_not_for_category": "Henvisning til § 85 kan kun Social Vejledning tage imod, "
                                     "og anmodning om at vente med ophævelse kun en "
                                     "boligforening.",
    "partner.contact_missing": "Skriv, hvem hos partneren kommunen kontakter, og en "
                               "e-mailadresse eller et telefonnummer.",
})
PARTNER_LABELS = {"partner_id": "Partnerens id", "name": "Navn", "category": "Kategori",
                  "accepts": "Tager imod", "contact_name": "Kontaktperson eller -enhed",
                  "contact_email": "E-mail", "contact_phone": "Telefon",
                  "description": "Beskrivelse"}
PARTNER_FIELDS = tuple(PARTNER_LABELS)


def _silent_subscriptions(ctx: WebContext) -> tuple[list[dict[str, Any]], str | None]:
    try:
        page_ = ctx.call("notifications", "silent_subscriptions", limit=PAGE_ITEMS)
    except RpcProblem as problem:
        if problem.status == 501:  # not there in this release
            return [], None
        return [], "Listen kan ikke hentes lige nu."
    return list(page_.get("items", [])), None


@page("/drift", roles=OPERATOR)
def operations(ctx: WebContext) -> Response:
    letters = ctx.ops.dead_letters() if ctx.ops else []
    silent, problem = _silent_subscriptions(ctx)
    return ctx.render("drift/index.html", letters=letters, names=SERVICE_NAMES,
                      silent=silent, silent_problem=problem)


@page("/drift/doede-breve/<letter_id>/genafspil", methods=("POST",), roles=OPERATOR)
def replay(ctx: WebContext) -> Response:
    try:
        done = ctx.ops.replay(ctx.args["letter_id"])
    except NotFound:
        return ctx.redirect("/drift", notice="Brevet findes ikke længere (allerede genafspillet?).")
    except ReplayFailed as exc:
        return ctx.redirect("/drift", notice="Brevet kunne ikke sendes igen og ligger stadig "
                            f"i listen. Årsag: {exc.outcome.problem}")
    return ctx.redirect("/drift", notice=f"Brevet er sendt igen til {done['to']}.")


@page("/drift/abonnementer/<subscription_id>/fjern", methods=("POST",), roles=OPERATOR)
def remove_subscription(ctx: WebContext) -> Response:
    text = ctx.args["subscription_id"]
    try:
        ctx.call("notifications", "remove_subscription",
                 subscription_id=int(text) if text.isdigit() else text)
    except RpcProblem as problem:
        if problem.status not in (400, 404):
            raise
        return ctx.redirect("/drift", notice="Abonnementet findes ikke længere.")
    return ctx.redirect("/drift", notice="Abonnementet er fjernet.")


# -- the partner directory -----------------------------------------------------------------


@page("/drift/partnere", roles=OPERATOR)
def partners(ctx: WebContext) -> Response:
    args: dict[str, Any] = {"limit": PAGE_ITEMS}
    if ctx.request.args.get("cursor"):
        args["cursor"] = ctx.request.args["cursor"]
    problem = None
    try:
        result = ctx.call("partners", "list_partners", **args)
    except RpcProblem as refused:
        result = {"items": [], "next_cursor": None}
        problem = ("Kataloget kan ikke hentes lige nu. Prøv igen om lidt."
                   if refused.status >= 500 else "Listen er ændret. Start forfra.")
    cursor = result.get("next_cursor")
    return ctx.render("drift/partners.html", result=result, problem=problem,
                      more_url=f"/drift/partnere?{urlencode({'cursor': cursor})}"
                      if cursor else None, fragment="rows")


def _partner_form(ctx: WebContext, values: dict[str, Any], errors: dict[str, str],
                  status: int = 200) -> Response:
    return ctx.render("drift/new_partner.html", status=status, values=values, errors=errors,
        labels=PARTNER_LABELS,
        categories=[(c.value, danish.label("partner_category", c.value))
                    for c in PartnerCategory],
        kinds=[(k.value, danish.label("handoff_kind", k.value)) for k in HandoffKind])


@page("/drift/partnere/ny", methods=("GET", "POST"), roles=OPERATOR)
def new_partner(ctx: WebContext) -> Response:
    if ctx.request.method == "GET":
        return _partner_form(ctx, {"partner_id": ctx.request.args.get("partner_id", ""),
                                   "accepts": []}, {})
    form = ctx.form
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in PARTNER_FIELDS}
    values["accepts"] = form.getlist("accepts")
    args = {name: (value or None) for name, value in values.items() if name != "accepts"}
    try:
        created = ctx.call("partners", "register_partner", accepts=values["accepts"], **args)
    except RpcProblem as problem:
        if problem.status not in (400, 409):
            raise
        return _partner_form(ctx, values, problem.by_field(), status=400)
    return ctx.redirect("/drift/partnere", notice=f"{created['name']} er oprettet i kataloget.")
