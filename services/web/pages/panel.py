"""The deciding bodies around a course: the tværgående udvalg (review panel), whose agenda
is the courses planned to end and which decides per course (end, continue to a new
planned end, refer to § 85); and Social Vejledning, which receives § 85 referrals and
answers each referral's hand-off (accept, decline with a reason, complete with an
outcome); its answer becomes the course's § 85 outcome."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from services.web.app import WebContext, page
from services.web.pages import menu_item
from services.web.pages.courses import course_command
from services.web.pages.fronten import days_until, render, today

R = StaffRole
PANEL = {R.REVIEW_PANEL}
AGENDA_READERS = {R.REVIEW_PANEL, R.FRONTEN}
SV = {R.SOCIAL_VEJLEDNING}
REFERRAL_READERS = {R.SOCIAL_VEJLEDNING, R.FRONTEN}
PAGE_ITEMS = 50

menu_item("Udvalgets dagsorden", "/udvalg", PANEL, order=30)
menu_item("Henvisninger til § 85", "/social-vejledning", SV, order=35)


def _page_of(ctx: WebContext, rpc: str, **args: Any) -> dict[str, Any]:
    cursor = ctx.request.args.get("cursor")
    if cursor:
        args["cursor"] = cursor
    result = ctx.call("intake", rpc, limit=PAGE_ITEMS, **args)
    day = today(ctx)
    items = [{**item, "details": item.get("details") or {}} for item in result.get("items", [])]
    for item in items:
        item["days_to_end"] = days_until(item["details"].get("planned_end"), day)
    return {"items": items, "next_cursor": result.get("next_cursor")}


@page("/udvalg", roles=AGENDA_READERS)
def agenda(ctx: WebContext) -> Response:
    """The panel's agenda: courses whose planned end awaits its decision, the soonest end
    first; on request also those Fronten should have sent by now."""
    everything = ctx.request.args.get("alle") == "ja"
    result = _page_of(ctx, "worklist_review_agenda", include_not_requested=everything)
    return render(ctx, "panel/agenda.html", result=result, everything=everything,
                      fragment="rows")


@page("/forloeb/<course_id>/afgoerelse", methods=("POST",), roles=AGENDA_READERS)
def decide_review(ctx: WebContext) -> Response:
    values = {"decision": ctx.form.get("decision", ""),
              "new_planned_end": ctx.form.get("new_planned_end", "").strip()}
    args: dict[str, Any] = {"course_id": ctx.args["course_id"], "decision": values["decision"]}
    if values["new_planned_end"]:
        args["new_planned_end"] = values["new_planned_end"]
    return course_command(ctx, "decide_review", args, notice="Udvalgets afgørelse er "
                          "registreret.", values=values,
                          fields={"planned_end": "new_planned_end",
                                  "new_planned_end": "new_planned_end",
                                  "review": "decision"})


@page("/social-vejledning", roles=REFERRAL_READERS)
def referrals(ctx: WebContext) -> Response:
    """Social Vejledning's § 85 referrals awaiting a decision, the oldest first."""
    result = _page_of(ctx, "worklist_referrals_85")
    return render(ctx, "panel/referrals.html", result=result, fragment="rows")


@page("/forloeb/<course_id>/overdragelser/<handoff_id>/svar", methods=("POST",),
      roles={R.SOCIAL_VEJLEDNING, R.FRONTEN})
def answer_handoff(ctx: WebContext) -> Response:
    """An answer to one of the course's hand-offs: Social Vejledning's to a § 85 referral,
    or Fronten's cancellation."""
    handoff_id = ctx.args["handoff_id"]
    form = ctx.form
    values = {"handoff": handoff_id, "state": form.get("state", ""),
              "reason": form.get("reason", "").strip(), "outcome": form.get("outcome", ""),
              "note": form.get("note", "").strip()}
    args: dict[str, Any] = {"handoff_id": handoff_id, "state": values["state"]}
    for key in ("reason", "outcome", "note"):
        if values[key]:
            args[key] = values[key]
    notice = {"received": "Henvisningen er markeret som modtaget.",
              "accepted": "Henvisningen er accepteret.", "declined": "Henvisningen er afvist.",
              "in_progress": "Henvisningen er markeret som i gang.",
              "completed": "Henvisningen er afsluttet med sit udfald.",
              "cancelled": "Overdragelsen er annulleret."}.get(values["state"], "Svaret er gemt.")
    return course_command(
        ctx, "answer_handoff", args, notice=notice, values=values, service="partners",
        fields={name: f"{name}-{handoff_id}" for name in ("state", "reason", "outcome", "note")})
