"""Fronten's screens: register an inquiry in under a minute (the citizen's own words kept
verbatim), see it, and resolve it with its outcome."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import Channel, InquirerKind, Outcome, Topic
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.worklists import subject_page

FRONTEN = {StaffRole.FRONTEN}

menu_item("Ny henvendelse", "/henvendelser/ny", FRONTEN, order=10)
subject_page("inquiry", "/henvendelser/{subject_id}")
PURPOSE = "Sagsbehandling i Fronten"
INQUIRY_LABELS = {"channel": "Hvordan kom henvendelsen?", "inquirer_kind": "Hvem henvendte sig?",
                  "topics": "Hvad handler det om?", "wish": "Borgerens egne ord",
                  "citizen_ref": "Borger"}


def _options(kind: str, values: Any) -> list[tuple[str, str]]:
    return [(v.value, danish.label(kind, v.value)) for v in values]


def inquiry_form_options() -> dict[str, Any]:
    return {"channels": _options("channel", Channel),
            "inquirer_kinds": _options("inquirer_kind", InquirerKind),
            "topics": _options("topic", Topic), "labels": INQUIRY_LABELS}


@page("/henvendelser/ny", methods=("GET", "POST"), roles=FRONTEN)
def new_inquiry(ctx: WebContext) -> Response:
    if ctx.request.method == "GET":
        return ctx.render("fronten/new_inquiry.html", values={"channel": "walk_in",
                                                               "inquirer_kind": "citizen",
                                                               "topics": []},
                          errors={}, **inquiry_form_options())
    form = ctx.form
    values = {"channel": form.get("channel", ""), "inquirer_kind": form.get("inquirer_kind", ""),
              "topics": form.getlist("topics"), "wish": form.get("wish", "")}
    try:
        created = ctx.call("intake", "register_inquiry", channel=values["channel"],
                           inquirer_kind=values["inquirer_kind"], topics=values["topics"],
                           wish=values["wish"])
    except RpcProblem as problem:
        if problem.status != 400:
            raise
        return ctx.render("fronten/new_inquiry.html", status=400, values=values,
                          errors=problem.by_field(), **inquiry_form_options())
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


@page("/henvendelser/<inquiry_id>", roles=FRONTEN)
def show_inquiry(ctx: WebContext) -> Response:
    inquiry = _inquiry(ctx)
    if inquiry is None:
        return ctx.render("error.html", status=404, title="Henvendelsen findes ikke",
                          text="Måske er adressen forkert. Find henvendelsen på listen.")
    return ctx.render("fronten/inquiry.html", inquiry=inquiry, errors={}, values={},
                      outcomes=_options("outcome", Outcome))


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
        return ctx.render("fronten/inquiry.html", status=400, inquiry=inquiry,
                          errors=problem.by_field(),
                          values={"outcome": outcome, "conversations": conversations},
                          outcomes=_options("outcome", Outcome))
    return ctx.redirect(f"/henvendelser/{ctx.args['inquiry_id']}",
                        notice="Henvendelsen er afsluttet.")
