"""Fronten's screens: register an inquiry in under a minute (the citizen's own words kept
verbatim), for a registered citizen or as anonymous advice; see it, and resolve it with
its outcome; decide a flag for a citizen outside the target group.

The helpers at the top are shared by Fronten's other page modules (citizens, courses,
panel): the purposes written to the access log, today's Copenhagen day, and a service's
errors placed next to the form fields they belong to.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import Channel, InquirerKind, Outcome, Topic
from services.common.localtime import local_day
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.worklists import subject_page

FRONTEN = {StaffRole.FRONTEN}

menu_item("Ny henvendelse", "/henvendelser/ny", FRONTEN, order=10)
subject_page("inquiry", "/henvendelser/{subject_id}")
subject_page("target_group_flag", "/maalgruppe/{subject_id}")
PURPOSE = "Sagsbehandling i Fronten"
INQUIRY_LABELS = {"channel": "Hvordan kom henvendelsen?", "inquirer_kind": "Hvem henvendte sig?",
                  "topics": "Hvad handler det om?", "wish": "Borgerens egne ord",
                  "citizen_ref": "Borger", "cpr": "Borgerens CPR-nummer"}

danish.add_labels("flag_subject", {"course": "et forløb", "pathway_referral":
                                   "en henvisning til sammenhængende borgerforløb",
                                   "referral_85": "en henvisning til § 85"})
danish.add_labels("flag_decision", {"accepted": "Forløbet fortsætter alligevel",
                                    "declined": "Ikke det rette tilbud til borgeren"})
danish.add_rule_texts({
    "inquiry.already_resolved": "Henvendelsen er allerede afsluttet.",
    "inquiry.outcome_needs_citizen": "Dette udfald kræver en registreret borger. Anonym "
                                     "rådgivning kan kun afsluttes som råd og vejledning "
                                     "eller henvisning til andet tilbud.",
    "inquiry.citizen_not_registered": "Henvendelsen har ingen registreret borger.",
    "inquiry.wish_missing": "Skriv borgerens ønske med borgerens egne ord.",
    "inquiry.in_future": "Tidspunktet ligger i fremtiden.",
    "inquiry.resolved_before_registered": "Henvendelsen kan ikke afsluttes, før den kom ind.",
    "match.criterion_missing": "Skriv et CPR-nummer, eller både navn og fødselsdato.",
    "flag.already_decided": "Der er allerede truffet en afgørelse.",
})


# -- shared by Fronten's page modules --------------------------------------------------------------


def render(ctx: WebContext, template: str, status: int = 200, **values: Any) -> Response:
    """ctx.render, with `word(kind, code)`: the Danish word for a code (danish.label).
    `fragment` is passed on only when htmx asks (WebContext.render keeps it otherwise)."""
    fragment = values.pop("fragment", None)
    if fragment and ctx.wants_fragment:
        values["fragment"] = fragment
    return ctx.render(template, status=status, word=danish.label, **values)


def today(ctx: WebContext) -> dt.date:
    """Today in Copenhagen, by the services' clock."""
    return local_day(ctx.now)


def days_until(day: str | dt.date | None, from_day: dt.date) -> int | None:
    """Days from `from_day` to `day` (negative when it has passed), for the `dage` filter."""
    if not day:
        return None
    value = dt.date.fromisoformat(day[:10]) if isinstance(day, str) else day
    return (value - from_day).days


def form_errors(problem: RpcProblem, fields: dict[str, str] | None = None) -> dict[str, str]:
    """A service's errors in Danish, each under the form field it belongs to. `fields`
    maps a service's field (or the start of it, e.g. "plan.goals") to the form's field;
    other errors keep the service's first name part (shown in the error summary)."""
    mapping = sorted((fields or {}).items(), key=lambda pair: -len(pair[0]))
    found: dict[str, str] = {}
    for error in problem.errors:
        name = str(error.get("field") or "_")
        target = next((form_field for prefix, form_field in mapping
                       if name == prefix or name.startswith((prefix + ".", prefix + "["))),
                      name.split(".")[0].split("[")[0])
        found.setdefault(target, danish.error_text(error))
    if not found:
        found["_"] = "Det kunne ikke lade sig gøre. Tjek oplysningerne, og prøv igen."
    return found


def not_found(ctx: WebContext, title: str, text: str) -> Response:
    return render(ctx, "error.html", status=404, title=title, text=text)


def options(kind: str, values: Any) -> list[tuple[str, str]]:
    return [(v.value, danish.label(kind, v.value)) for v in values]


def citizen_name(ctx: WebContext, citizen_ref: str | None, purpose: str = PURPOSE
                 ) -> str | None:
    """The citizen's name as far as the caller may see it (a logged read), or None."""
    if not citizen_ref:
        return None
    try:
        return ctx.call("intake", "get_citizen", citizen_ref=citizen_ref,
                        purpose=purpose).get("name")
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


# -- inquiries -------------------------------------------------------------------------------------


def inquiry_form_options() -> dict[str, Any]:
    return {"channels": options("channel", Channel),
            "inquirer_kinds": options("inquirer_kind", InquirerKind),
            "topics": options("topic", Topic), "labels": INQUIRY_LABELS}


def _chosen_citizen(ctx: WebContext, citizen_ref: str) -> dict[str, Any] | None:
    """The citizen an inquiry is registered for (from the citizen's page)."""
    name = citizen_name(ctx, citizen_ref)
    return None if name is None else {"citizen_ref": citizen_ref, "name": name}


@page("/henvendelser/ny", methods=("GET", "POST"), roles=FRONTEN)
def new_inquiry(ctx: WebContext) -> Response:
    if ctx.request.method == "GET":
        chosen = ctx.request.args.get("borger", "").strip()
        citizen = _chosen_citizen(ctx, chosen) if chosen else None
        if chosen and citizen is None:
            return not_found(ctx, "Borgeren findes ikke", "Find borgeren igen under Borgere.")
        return render(ctx, "fronten/new_inquiry.html", values={"channel": "walk_in",
                                                               "inquirer_kind": "citizen",
                                                               "topics": []},
                          errors={}, citizen=citizen, **inquiry_form_options())
    form = ctx.form
    values = {"channel": form.get("channel", ""), "inquirer_kind": form.get("inquirer_kind", ""),
              "topics": form.getlist("topics"), "wish": form.get("wish", ""),
              "cpr": form.get("cpr", "").strip()}
    citizen_ref = form.get("citizen_ref", "").strip() or None
    citizen = _chosen_citizen(ctx, citizen_ref) if citizen_ref else None

    def again(errors: dict[str, str]) -> Response:
        return render(ctx, "fronten/new_inquiry.html", status=400, values=values,
                          errors=errors, citizen=citizen, **inquiry_form_options())

    try:
        if citizen_ref is None and values["cpr"]:
            # The citizen named by CPR number (only ever in this POST body).
            found = ctx.call("intake", "match_citizen", cpr=values["cpr"], purpose=PURPOSE)
            citizen_ref = found.get("citizen_ref")
            if citizen_ref is None:
                return again({"cpr": "Der er ingen borger med dette CPR-nummer. Registrér "
                                     "borgeren under Borgere, eller lad feltet stå tomt ved "
                                     "anonym rådgivning."})
        created = ctx.call("intake", "register_inquiry", channel=values["channel"],
                           inquirer_kind=values["inquirer_kind"], topics=values["topics"],
                           wish=values["wish"], citizen_ref=citizen_ref)
    except RpcProblem as problem:
        if problem.status != 400:
            raise
        return again(form_errors(problem))
    return ctx.redirect(f"/henvendelser/{created['inquiry_id']}",
                        notice="Henvendelsen er registreret.")


def _inquiry(ctx: WebContext) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("intake", "get_inquiry", inquiry_id=ctx.args["inquiry_id"],
                             purpose=PURPOSE))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def _show_inquiry(ctx: WebContext, inquiry: dict[str, Any], status: int = 200,
                  errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None) -> Response:
    return render(ctx, "fronten/inquiry.html", status=status, inquiry=inquiry,
                      citizen_name=citizen_name(ctx, inquiry.get("citizen_ref")),
                      errors=errors or {}, values=values or {},
                      outcomes=options("outcome", Outcome))


@page("/henvendelser/<inquiry_id>", roles=FRONTEN)
def show_inquiry(ctx: WebContext) -> Response:
    inquiry = _inquiry(ctx)
    if inquiry is None:
        return not_found(ctx, "Henvendelsen findes ikke",
                         "Måske er adressen forkert. Find henvendelsen på listen.")
    return _show_inquiry(ctx, inquiry)


@page("/henvendelser/<inquiry_id>/afslutning", methods=("POST",), roles=FRONTEN)
def resolve_inquiry(ctx: WebContext) -> Response:
    outcome = ctx.form.get("outcome", "")
    conversations = ctx.form.get("conversations", "").strip()
    args: dict[str, Any] = {"inquiry_id": ctx.args["inquiry_id"], "outcome": outcome}
    if conversations:
        args["conversations"] = int(conversations) if conversations.isdigit() else conversations
    try:
        ctx.call("intake", "resolve_inquiry", **args)
    except RpcProblem as problem:
        inquiry = _inquiry(ctx)
        if problem.status != 400 or inquiry is None:
            raise
        return _show_inquiry(ctx, inquiry, status=400, errors=form_errors(problem),
                             values={"outcome": outcome, "conversations": conversations})
    return ctx.redirect(f"/henvendelser/{ctx.args['inquiry_id']}",
                        notice="Henvendelsen er afsluttet.")


# -- citizens outside the target group -------------------------------------------------------------


def _flag(ctx: WebContext, flag_id: str) -> dict[str, Any] | None:
    """The open flag, from Fronten's list of flags (there is no read of one flag)."""
    cursor = None
    for _ in range(20):
        args: dict[str, Any] = {"limit": 200}
        if cursor:
            args["cursor"] = cursor
        result = ctx.call("intake", "worklist_outside_target_group", **args)
        for item in result.get("items", []):
            if str(item.get("subject_id")) == flag_id:
                return dict(item)
        cursor = result.get("next_cursor")
        if not cursor:
            return None
    return None


def _flagged_link(flag: dict[str, Any]) -> str | None:
    details = flag.get("details") or {}
    if details.get("flagged_subject_type") == "course":
        return f"/forloeb/{details.get('flagged_subject_id')}"
    if details.get("flagged_subject_type") == "inquiry":
        return f"/henvendelser/{details.get('flagged_subject_id')}"
    return None


@page("/maalgruppe/<flag_id>", methods=("GET", "POST"), roles=FRONTEN)
def target_group_flag(ctx: WebContext) -> Response:
    flag = _flag(ctx, ctx.args["flag_id"])
    if flag is None:
        return not_found(ctx, "Vurderingen findes ikke",
                         "Den er måske allerede afgjort. Se listen »Uden for målgruppen«.")
    errors: dict[str, str] = {}
    decision = ""
    if ctx.request.method == "POST":
        decision = ctx.form.get("decision", "")
        try:
            ctx.call("intake", "decide_target_group_flag", flag_id=ctx.args["flag_id"],
                     decision=decision)
        except RpcProblem as problem:
            if problem.status != 400:
                raise
            errors = form_errors(problem)
        else:
            return ctx.redirect("/", notice="Afgørelsen er registreret.")
    return render(ctx, "fronten/flag.html", status=400 if errors else 200, flag=flag,
                      flagged_link=_flagged_link(flag), errors=errors, decision=decision,
                      decisions=[(code, danish.label("flag_decision", code))
                                 for code in ("accepted", "declined")],
                      citizen_name=citizen_name(ctx, flag.get("citizen_ref")))
