"""The operator's screen: dead letters of every service and events no consumer took
(`unrouted`), each with its error, and replay; and the partner subscriptions that can
deliver nothing (from notifications)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from services.common.errors import NotFound
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item

OPERATOR = {StaffRole.OPERATOR}
menu_item("Drift", "/drift", OPERATOR, order=90)
SERVICE_NAMES = {
    "intake": "Fronten (intake)",
    "coordination": "Borgerforløb (coordination)",
    "housing": "Huslejesager (housing)",
    "notifications": "Udsendelser (notifications)",
    "partners": "Samarbejdspartnere (partners)",
    "unrouted": "Hændelser uden modtager",
}


def _silent_subscriptions(ctx: WebContext) -> tuple[list[dict[str, Any]], str | None]:
    try:
        page_ = ctx.call("notifications", "silent_subscriptions", limit=50)
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
    return ctx.redirect("/drift", notice=f"Brevet er sendt igen til {done['to']}.")
