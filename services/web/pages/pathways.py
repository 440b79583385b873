"""Coordinators and tovholdere (sammenhængende borgerforløb).

Coordinators take a pathway from "awaiting a tovholder" and appoint one from the staff
directory. Tovholdere work from "my pathways" and the pathway page: the citizen (name
and contact as far as intake lets the caller see them), the team with their agencies
(gathered from the staff directory; a missing consent is shown next to the field), the
network persons with their contact and whether the citizen agreed that they are
contacted, the citizen's wishes, the plan versions with the citizen's agreement (who,
when, how), the continuity figure, hand-offs needing attention, referrals to an offer,
the timeline, and handing over to a new tovholder with a note.

The handleplan form carries the version it was based on (`base_version`); coordination
refuses a revision whose base is no longer current, and the second editor sees the
current plan beside their own text, so no update is lost.

Meetings and availability are in services.web.pages.scheduling. Every rule is the
services'; the handlers read the form, call, and render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from contracts.vocabulary import MeetingPlace
from services.common.localtime import local_day
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.worklists import link_of, subject_page

R = StaffRole
PATHWAY_STAFF = {R.TOVHOLDER, R.COORDINATOR}
TOVHOLDER = {R.TOVHOLDER}
COORDINATOR = {R.COORDINATOR}
PURPOSE = "Tovholderens arbejde med borgerforløbet"
LIST_LIMIT = 50
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

menu_item("Borgerforløb", "/borgerforloeb", PATHWAY_STAFF, order=20)
subject_page("pathway", "/borgerforloeb/{subject_id}")
subject_page("action", "/borgerforloeb/{details[pathway_id]}/handleplan")

danish.add_labels("weekday", dict(zip(WEEKDAY_CODES, danish.WEEKDAYS, strict=True)))
danish.add_labels("goal_voice", {"citizen": "Borgerens egne ord", "network": "Netværkets ord",
                                 "team": "Teamets ord"})
danish.add_labels("action_status", {"open": "Åben", "done": "Gjort", "dropped": "Droppet"})
danish.add_labels("agreement_how", {"in_meeting": "På et møde", "phone": "Telefonisk",
                                    "written": "Skriftligt"})
danish.add_labels("meeting_status", {"planned": "Planlagt", "held": "Holdt",
                                     "cancelled": "Aflyst"})
danish.add_labels("pathway_standing", {"tovholder": "Du er tovholder",
                                       "member": "Du er med i teamet",
                                       "coordinator": "Du ser forløbet som koordinator",
                                       "service": "System"})
danish.add_labels("handoff_state", {
    "requested": "Sendt", "received": "Modtaget", "accepted": "Accepteret",
    "declined": "Afvist", "in_progress": "I gang", "completed": "Afsluttet",
    "cancelled": "Annulleret"})
danish.add_labels("timeline_kind", {
    "pathway_opened": "Forløbet blev oprettet",
    "pathway_referral": "Fronten henviste borgeren til et sammenhængende borgerforløb",
    "pathway_closed": "Forløbet blev afsluttet",
    "member_added": "Ny i teamet",
    "membership_ended": "Forlod teamet",
    "network_person_added": "Ny person fra netværket",
    "tovholder_appointed": "Tovholder udpeget",
    "tovholder_handed_over": "Ny tovholder",
    "citizen_preferences_set": "Borgerens ønsker til møder blev opdateret",
    "meeting_scheduled": "Møde planlagt",
    "meeting_rescheduled": "Møde flyttet",
    "meeting_cancelled": "Møde aflyst",
    "meeting_held": "Møde holdt",
    "plan_version_created": "Ny version af handleplanen",
    "plan_agreed": "Borgeren sagde ja til handleplanen",
    "action_status_changed": "En handling fik ny status",
    "action_due": "En handling har frist i dag",
    "action_overdue": "En handling er over fristen",
    "offer_referral_requested": "Henvist til et andet tilbud",
    "handoff_updated": "Svar fra en samarbejdspartner",
    "handoff_escalated": "En samarbejdspartner har ikke svaret",
    "handoff_acknowledged": "Tovholderen har fulgt op på en overdragelse",
    "housing_adviser_for_case": "Boligrådgiver med i teamet for en huslejesag",
    "inquiry_registered": "Henvendelse til Fronten",
    "inquiry_resolved": "Henvendelsen blev afsluttet",
    "course_started": "Forløb i Fronten startet",
    "course_extended": "Forløb i Fronten forlænget",
    "course_review_decided": "Tværgående udvalg har besluttet",
    "course_ended": "Forløb i Fronten afsluttet",
    "referral_85_decided": "Afgørelse om § 85",
    "housing_case_opened": "Huslejesag oprettet",
    "housing_case_escalated": "Huslejesagen er rykket et trin op",
    "housing_case_deescalated": "Huslejesagen er rykket et trin ned",
    "housing_warning_flagged": "Advarsel i huslejesagen",
    "housing_action_overdue": "En frist i huslejesagen er overskredet",
    "housing_case_closed": "Huslejesagen er lukket",
})
danish.add_rule_texts({
    "pathway.member_exists": "Personen er allerede med i teamet.",
    "pathway.second_tovholder": "Forløbet har allerede en tovholder.",
    "pathway.tovholder_missing": "Forløbet har ingen tovholder endnu.",
    "pathway.tovholder_not_member": "Tovholderen skal være med i teamet.",
    "pathway.member_not_active": "Personen er ikke aktiv i teamet nu.",
    "pathway.closed": "Forløbet er afsluttet.",
    "pathway.participant_exists": "Personen er allerede med.",
    "member.role_missing": "Skriv personens rolle i teamet, fx »lærer«.",
    "member.period_invalid": "Perioden slutter, før den begynder.",
    "handover.same_tovholder": "Personen er allerede tovholder.",
    "handover.reason_missing": "Skriv, hvorfor tovholderen skiftes.",
    "handover.before_term_start": "Skiftet kan ikke ligge før den nuværende tovholders start.",
    "network.contact_missing": "Borgeren har sagt ja til kontakt: skriv en e-mailadresse "
                               "eller et telefonnummer.",
    "network.text_missing": "Skriv personens navn og relation til borgeren.",
    "preferences.window_empty": "»Ikke efter« skal ligge efter »ikke før«.",
    "partner.unknown": "Vælg et tilbud fra listen.",
    "offer_referral.open": "Borgeren er allerede henvist til dette tilbud, og det er ikke "
                           "afsluttet endnu.",
    "offer_referral.ask_missing": "Skriv, hvad tilbuddet bliver spurgt om.",
    "handoff.no_attention_needed": "Overdragelsen kræver ikke længere opfølgning.",
    "plan.goal_text_missing": "Skriv målet med borgerens egne ord.",
    "plan.duplicate_id": "Et mål eller en handling står to gange.",
    "plan.action_text_missing": "Skriv, hvad handlingen går ud på.",
    "plan.owner_not_member": "Den ansvarlige skal være med i teamet.",
    "plan.citizen_goal_missing": "Mindst ét mål skal være med borgerens egne ord.",
    "plan.already_agreed": "Borgeren har allerede sagt ja til denne version.",
    "plan.version_superseded": "Der er kommet en nyere version. Borgeren kan kun sige ja til "
                               "den nyeste.",
    "plan.version_conflict": "Handleplanen er ændret af en anden, mens du skrev.",
    "plan.exists": "Der er allerede lavet en handleplan, mens du skrev.",
})

# The rules that mean "someone else changed the plan first" (HTTP 409 once the gateway
# maps them; 400 with the rule until then).
PLAN_CONFLICTS = ("plan.version_conflict", "plan.exists")


# -- small helpers ----------------------------------------------------------------------------


def today(ctx: WebContext) -> dt.date:
    return local_day(ctx.now)


def not_found(ctx: WebContext) -> Response:
    return ctx.render("error.html", status=404, title="Borgerforløbet findes ikke",
                      text="Måske er adressen forkert, eller også er forløbet ikke dit at se. "
                           "Find dine forløb under Borgerforløb.")


def field_errors(problem: RpcProblem, fields: dict[str, str]) -> dict[str, str]:
    """The service's errors by the form's field names: `fields` maps the first part of
    a service field (e.g. "agency") to the form field it belongs to; the rest go to
    "_form" (shown in the error summary)."""
    found: dict[str, str] = {}
    for error in problem.errors:
        first = str(error.get("field", "_")).split(".")[0]
        found.setdefault(fields.get(first, "_form"), danish.error_text(error))
    return found


def refused(ctx: WebContext, problem: RpcProblem) -> Response | None:
    """None when the form is shown again with the errors (400); the 404 page when the
    pathway is not (or no longer) the caller's to see; anything else is the frame's to
    answer (a trace never reaches the person)."""
    if problem.status == 400:
        return None
    if problem.status == 404:
        return not_found(ctx)
    raise problem


def pathway_of(ctx: WebContext, pathway_id: str | None = None) -> dict[str, Any] | None:
    """The pathway as the caller may see it (coordination decides), or None."""
    try:
        return dict(ctx.call("coordination", "get_pathway",
                             pathway_id=pathway_id or ctx.args["pathway_id"]))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def citizen_of(ctx: WebContext, citizen_ref: str) -> dict[str, Any] | None:
    """The citizen as far as intake lets the caller see them (a logged read)."""
    try:
        return dict(ctx.call("intake", "get_citizen", citizen_ref=citizen_ref,
                             purpose=PURPOSE))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def names_of(pathway: dict[str, Any], citizen: dict[str, Any] | None = None) -> dict[str, str]:
    """Who is who on this pathway: member ids, network persons, the citizen."""
    names = {m["member_id"]: m["name"] for m in pathway.get("members") or []}
    names.update({n["person_id"]: n["name"] for n in pathway.get("network") or []})
    names[pathway["citizen_ref"]] = (citizen or {}).get("name") or "Borgeren"
    return names


def who(label: Any, names: dict[str, str]) -> str:
    """A person from an actor label ("staff:mette") or an id, by name where known."""
    if not label:
        return "Systemet"
    text = str(label)
    kind, _, ident = text.partition(":")
    if not ident:
        kind, ident = "staff", text
    if kind == "service":
        return "Systemet"
    return names.get(ident, "En medarbejder")


def is_tovholder(pathway: dict[str, Any]) -> bool:
    return pathway.get("my_standing") == "tovholder"


def awaits_tovholder(pathway: dict[str, Any]) -> bool:
    return pathway.get("tovholder_id") is None and pathway.get("closed_at") is None


def may_gather_team(pathway: dict[str, Any]) -> bool:
    return is_tovholder(pathway) or (pathway.get("my_standing") == "coordinator"
                                     and awaits_tovholder(pathway))


def staff_directory(ctx: WebContext, role: str | None = None) -> list[dict[str, Any]]:
    return list(ctx.ops.staff(role)) if ctx.ops else []


def staff_options(people: list[dict[str, Any]], leave_out: frozenset[str] | set[str] = frozenset()
                  ) -> list[tuple[str, str]]:
    return [(p["staff_id"], f"{p['name']} ({danish.label('agency', p.get('agency'))})"
             if p.get("agency") else p["name"]) for p in people if p["staff_id"] not in leave_out]


def member_spec(person: dict[str, Any], role: str) -> dict[str, Any]:
    """A team member's details as the directory has them."""
    return {"member_id": person["staff_id"], "name": person["name"], "email": person["email"],
            "phone": person.get("phone") or None, "agency": person.get("agency"), "role": role}


# -- the lists ---------------------------------------------------------------------------------


def _list_page(ctx: WebContext, rpc: str, cursor: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {"limit": LIST_LIMIT}
    if cursor:
        args["cursor"] = cursor
    try:
        result = ctx.call("coordination", rpc, **args)
    except RpcProblem as problem:
        message = ("Listen kan ikke hentes lige nu. Prøv igen om lidt."
                   if problem.status >= 500 else "Listen er ændret. Start forfra.")
        return {"items": [], "next_cursor": None, "problem": message}
    return {"items": result.get("items", []), "next_cursor": result.get("next_cursor"),
            "problem": None}


@page("/borgerforloeb", roles=PATHWAY_STAFF)
def pathways(ctx: WebContext) -> Response:
    """Coordinators: pathways awaiting a tovholder (under 30 first). Tovholdere: my
    pathways (those I lead first)."""
    sections = []
    if ctx.has_role(R.COORDINATOR):
        sections.append(("venter", "Venter på en tovholder", "Unge under 30 først, derefter "
                         "dem, der har ventet længst.", "Alle borgerforløb har en tovholder.",
                         _list_page(ctx, "awaiting_tovholder", ctx.request.args.get("venter"))))
    if ctx.has_role(R.TOVHOLDER):
        sections.append(("mine", "Mine borgerforløb", "Dem, du er tovholder for, står først.",
                         "Du er ikke med i noget borgerforløb endnu.",
                         _list_page(ctx, "my_pathways", ctx.request.args.get("mine"))))
    return ctx.render("pathways/list.html", sections=sections, link_of=link_of)


# -- the pathway page ----------------------------------------------------------------------------


def _handoffs_needing_attention(ctx: WebContext, pathway_id: str) -> list[dict[str, Any]]:
    try:
        result = ctx.call("coordination", "my_handoffs", limit=200)
    except RpcProblem:
        return []
    return [i for i in result.get("items", [])
            if i.get("details", {}).get("pathway_id") == pathway_id]


def _offer_partners(ctx: WebContext) -> list[tuple[str, str]]:
    try:
        result = ctx.call("partners", "list_partners", accepts="offer_referral", active=True,
                          limit=200)
    except RpcProblem:
        return []
    return [(p["partner_id"], p["name"]) for p in result.get("items", [])]


TEAM_FIELDS = {"member_id": "team-staff_id", "member": "team-staff_id", "name": "team-staff_id",
               "email": "team-staff_id", "phone": "team-staff_id", "agency": "team-staff_id",
               "role": "team-role", "active_from": "team-staff_id"}
APPOINT_FIELDS = {**{k: "appoint-staff_id" for k in TEAM_FIELDS}, "role": "appoint-role",
                  "tovholder": "appoint-staff_id"}
NETWORK_FIELDS = {"name": "net-name", "relation": "net-relation", "email": "net-email",
                  "phone": "net-phone", "may_contact": "net-may_contact",
                  "person": "net-name"}
PREFERENCE_FIELDS = {"not_before": "pref-not_before", "not_after": "pref-not_after",
                     "weekdays": "pref-weekdays", "place": "pref-place"}
REFERRAL_FIELDS = {"partner_id": "ref-partner_id", "ask": "ref-ask"}
LABELS = {
    "team-staff_id": "Medarbejder", "team-role": "Rolle i teamet",
    "appoint-staff_id": "Hvem bliver tovholder?", "appoint-role": "Rolle i teamet",
    "net-name": "Navn", "net-relation": "Relation til borgeren", "net-email": "E-mail",
    "net-phone": "Telefon", "net-may_contact": "Kontakt",
    "pref-not_before": "Ikke før", "pref-not_after": "Ikke efter",
    "pref-weekdays": "Dage", "pref-place": "Sted",
    "ref-partner_id": "Tilbud", "ref-ask": "Hvad spørger I tilbuddet om?",
}


def render_pathway(ctx: WebContext, pathway: dict[str, Any] | None = None, *, status: int = 200,
                   errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                   open_form: str | None = None) -> Response:
    """The pathway page; after a refused form, with the errors next to their fields and
    the values the person typed."""
    pathway = pathway or pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    pathway_id = pathway["pathway_id"]
    citizen = citizen_of(ctx, pathway["citizen_ref"])  # intake decides how much
    names = names_of(pathway, citizen)
    members = {m["member_id"] for m in pathway.get("members") or []}
    team_gatherer = may_gather_team(pathway)
    directory = staff_directory(ctx) if team_gatherer else []
    appoint = pathway.get("my_standing") == "coordinator" and awaits_tovholder(pathway)
    lead = is_tovholder(pathway)
    preferences = pathway.get("preferences") or {}
    return ctx.render(
        "pathways/pathway.html", status=status, pathway=pathway, citizen=citizen, names=names,
        who=lambda label: who(label, names), lead=lead, appoint=appoint,
        team_gatherer=team_gatherer,
        team_options=staff_options(directory, members),
        tovholder_options=staff_options(staff_directory(ctx, "tovholder")) if appoint else [],
        handoffs=_handoffs_needing_attention(ctx, pathway_id) if lead else [],
        partners=_offer_partners(ctx) if lead else [],
        weekdays=[(c, danish.label("weekday", c)) for c in WEEKDAY_CODES[:5]],
        places=[(p.value, danish.label("meeting_place", p.value)) for p in MeetingPlace],
        preferences=preferences, errors=errors or {}, values=values or {},
        open_form=open_form, labels=LABELS, today=today(ctx))


@page("/borgerforloeb/<pathway_id>", roles=PATHWAY_STAFF)
def show_pathway(ctx: WebContext) -> Response:
    return render_pathway(ctx)


def _directory_person(ctx: WebContext, staff_id: str) -> dict[str, Any] | None:
    return next((p for p in staff_directory(ctx) if p["staff_id"] == staff_id), None)


@page("/borgerforloeb/<pathway_id>/tovholder", methods=("POST",), roles=COORDINATOR)
def appoint_tovholder(ctx: WebContext) -> Response:
    """The coordinator appoints the tovholder from the directory (who joins the team
    first, if not in it)."""
    pathway = pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    values = {"appoint-staff_id": ctx.form.get("appoint-staff_id", ""),
              "appoint-role": ctx.form.get("appoint-role", "").strip()}
    person = _directory_person(ctx, values["appoint-staff_id"])
    if person is None:
        return render_pathway(ctx, pathway, status=400, values=values, open_form="appoint",
                              errors={"appoint-staff_id": "Vælg en tovholder fra listen."})
    members = {m["member_id"] for m in pathway["members"]}
    try:
        if person["staff_id"] not in members:
            ctx.call("coordination", "add_member", pathway_id=pathway["pathway_id"],
                     **member_spec(person, values["appoint-role"]))
        ctx.call("coordination", "appoint_tovholder", pathway_id=pathway["pathway_id"],
                 member_id=person["staff_id"])
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, pathway_of(ctx), status=400, values=values,
                              open_form="appoint", errors=field_errors(problem, APPOINT_FIELDS))
    # The pathway is now the tovholder's: a coordinator no longer sees it.
    return ctx.redirect("/borgerforloeb",
                        notice=f"{person['name']} er udpeget som tovholder for forløbet.")


@page("/borgerforloeb/<pathway_id>/team", methods=("POST",), roles=PATHWAY_STAFF)
def add_member(ctx: WebContext) -> Response:
    """A professional joins the team, picked from the staff directory. A member from
    another agency needs the citizen's consent: the service's message is shown next to
    the field."""
    pathway = pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    values = {"team-staff_id": ctx.form.get("team-staff_id", ""),
              "team-role": ctx.form.get("team-role", "").strip()}
    person = _directory_person(ctx, values["team-staff_id"])
    if person is None:
        return render_pathway(ctx, pathway, status=400, values=values, open_form="team",
                              errors={"team-staff_id": "Vælg en medarbejder fra listen."})
    try:
        ctx.call("coordination", "add_member", pathway_id=pathway["pathway_id"],
                 **member_spec(person, values["team-role"]))
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, pathway, status=400, values=values, open_form="team",
                              errors=field_errors(problem, TEAM_FIELDS))
    return ctx.redirect(f"/borgerforloeb/{pathway['pathway_id']}#team",
                        notice=f"{person['name']} er med i teamet.")


@page("/borgerforloeb/<pathway_id>/netvaerk", methods=("POST",), roles=TOVHOLDER)
def add_network_person(ctx: WebContext) -> Response:
    """A relative or friend who takes part in meetings; invitations reach them only
    when the citizen agreed (`may_contact`)."""
    form = ctx.form
    values = {k: form.get(k, "").strip() for k in ("net-name", "net-relation", "net-email",
                                                   "net-phone")}
    values["net-may_contact"] = form.get("net-may_contact", "")
    try:
        ctx.call("coordination", "add_network_person", pathway_id=ctx.args["pathway_id"],
                 name=values["net-name"], relation=values["net-relation"],
                 email=values["net-email"] or None, phone=values["net-phone"] or None,
                 may_contact=values["net-may_contact"] == "yes")
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, status=400, values=values, open_form="network",
                              errors=field_errors(problem, NETWORK_FIELDS))
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}#netvaerk",
                        notice=f"{values['net-name']} er med i borgerens netværk.")


def clock_time(text: str) -> str | None:
    """"10", "10.00" or "10:00" as the contract's "10:00" (None when empty)."""
    text = text.strip().replace(".", ":")
    if not text:
        return None
    if text.isdigit() and len(text) <= 2:
        return f"{int(text):02d}:00"
    return text


@page("/borgerforloeb/<pathway_id>/oensker", methods=("POST",), roles=TOVHOLDER)
def set_preferences(ctx: WebContext) -> Response:
    """What suits the citizen: the slot search ranks by it."""
    form = ctx.form
    values = {"pref-not_before": form.get("pref-not_before", ""),
              "pref-not_after": form.get("pref-not_after", ""),
              "pref-weekdays": form.getlist("pref-weekdays"),
              "pref-place": form.get("pref-place", "")}
    try:
        ctx.call("coordination", "set_citizen_preferences", pathway_id=ctx.args["pathway_id"],
                 not_before=clock_time(values["pref-not_before"]),
                 not_after=clock_time(values["pref-not_after"]),
                 weekdays=values["pref-weekdays"], place=values["pref-place"] or None)
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, status=400, values=values, open_form="preferences",
                              errors=field_errors(problem, PREFERENCE_FIELDS))
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}#oensker",
                        notice="Borgerens ønsker til møder er gemt.")


@page("/borgerforloeb/<pathway_id>/overdragelser/<handoff_id>", methods=("POST",),
      roles=TOVHOLDER)
def acknowledge_handoff(ctx: WebContext) -> Response:
    note = ctx.form.get(f"note-{ctx.args['handoff_id']}", "").strip()
    try:
        ctx.call("coordination", "acknowledge_handoff", pathway_id=ctx.args["pathway_id"],
                 handoff_id=ctx.args["handoff_id"], note=note or None)
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, status=400, open_form="handoff-" + ctx.args["handoff_id"],
                              errors={"_form": danish.error_text(problem.errors[0])
                                      if problem.errors else "Det lykkedes ikke."})
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}#overdragelser",
                        notice="Overdragelsen er fulgt op.")


@page("/borgerforloeb/<pathway_id>/henvisning", methods=("POST",), roles=TOVHOLDER)
def refer_to_offer(ctx: WebContext) -> Response:
    """The tovholder refers the citizen to another offer; the ask stays here."""
    values = {"ref-partner_id": ctx.form.get("ref-partner_id", ""),
              "ref-ask": ctx.form.get("ref-ask", "")}
    try:
        ctx.call("coordination", "refer_to_offer", pathway_id=ctx.args["pathway_id"],
                 partner_id=values["ref-partner_id"], ask=values["ref-ask"])
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return render_pathway(ctx, status=400, values=values, open_form="referral",
                              errors=field_errors(problem, REFERRAL_FIELDS))
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}#henvisninger",
                        notice="Henvisningen er sendt til tilbuddet.")


class Details(dict[str, Any]):
    """A timeline entry's details: a key the entry does not have is None."""

    def __missing__(self, key: str) -> None:
        return None


# -- the timeline ------------------------------------------------------------------------------


@page("/borgerforloeb/<pathway_id>/tidslinje", roles=PATHWAY_STAFF)
def timeline(ctx: WebContext) -> Response:
    pathway = pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    try:
        found = ctx.call("coordination", "timeline", pathway_id=pathway["pathway_id"])
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return not_found(ctx)
        raise
    names = names_of(pathway)
    # The newest first; an entry's details differ by kind (a missing one reads as none).
    entries = [{**e, "details": Details(e.get("details") or {})}
               for e in reversed(found.get("entries", []))]
    return ctx.render("pathways/timeline.html", pathway=pathway, entries=entries,
                      who=lambda label: who(label, names), names=names)


# -- handing over ------------------------------------------------------------------------------


HANDOVER_FIELDS = {"new_tovholder_id": "new_tovholder_id", "reason": "reason",
                   "handover_note": "handover_note", "tovholder": "new_tovholder_id"}
HANDOVER_LABELS = {"new_tovholder_id": "Ny tovholder", "reason": "Hvorfor skiftes der?",
                   "handover_note": "Overdragelsesnote til den nye tovholder og teamet"}


def _handover_page(ctx: WebContext, pathway: dict[str, Any], status: int = 200,
                   errors: dict[str, str] | None = None,
                   values: dict[str, str] | None = None) -> Response:
    candidates = [(m["member_id"], f"{m['name']} ({m['role']})")
                  for m in pathway["members"] if m["active"] and not m["tovholder"]]
    return ctx.render("pathways/handover.html", status=status, pathway=pathway,
                      candidates=candidates, errors=errors or {}, values=values or {},
                      labels=HANDOVER_LABELS)


@page("/borgerforloeb/<pathway_id>/skift-tovholder", methods=("GET", "POST"), roles=TOVHOLDER)
def hand_over(ctx: WebContext) -> Response:
    """The tovholder hands over to a team member, with a reason (kept in coordination)
    and a note for the new tovholder and the team."""
    pathway = pathway_of(ctx)
    if pathway is None or not is_tovholder(pathway):
        return not_found(ctx)
    if ctx.request.method == "GET":
        return _handover_page(ctx, pathway)
    values = {k: ctx.form.get(k, "") for k in HANDOVER_LABELS}
    try:
        ctx.call("coordination", "hand_over_tovholder", pathway_id=pathway["pathway_id"],
                 new_tovholder_id=values["new_tovholder_id"], reason=values["reason"],
                 handover_note=values["handover_note"].strip() or None)
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        return _handover_page(ctx, pathway, status=400, values=values,
                              errors=field_errors(problem, HANDOVER_FIELDS))
    new = next((m["name"] for m in pathway["members"]
                if m["member_id"] == values["new_tovholder_id"]), "Den nye tovholder")
    return ctx.redirect(f"/borgerforloeb/{pathway['pathway_id']}",
                        notice=f"{new} er nu tovholder. Borgeren og teamet får besked.")


# -- the handleplan ----------------------------------------------------------------------------

MAX_ROWS = 30  # goals in a plan, actions under a goal (the form's own bound)
PLAN_FIELD_TEXTS = {"owner_id": "Vælg den ansvarlige fra teamet.",
                    "due_on": "Angiv en dato som ÅÅÅÅ-MM-DD."}


def plan_versions(ctx: WebContext, pathway_id: str) -> dict[str, Any] | None:
    """Every version with the citizen's agreement, or None while there is no plan."""
    try:
        return dict(ctx.call("coordination", "list_plan_versions", pathway_id=pathway_id))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def plan_version(ctx: WebContext, pathway_id: str, version: int) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("coordination", "get_plan_version", pathway_id=pathway_id,
                             version=version))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def _count(form: Any, name: str) -> int:
    text = form.get(name, "")
    return min(int(text), MAX_ROWS) if text.isdigit() else 0


def plan_rows(form: Any) -> list[dict[str, Any]]:
    """The plan form as typed: every goal and action row, blank ones included."""
    goals = []
    for i in range(_count(form, "goal_count")):
        g = f"goals-{i}"
        actions = [{k: form.get(f"{g}-actions-{j}-{k}", "").strip()
                    for k in ("action_id", "text", "owner_id", "due_on")}
                   for j in range(_count(form, f"{g}-action_count"))]
        goals.append({"goal_id": form.get(f"{g}-goal_id", "").strip(),
                      "text": form.get(f"{g}-text", "").strip(),
                      "voice": form.get(f"{g}-voice", "citizen"), "actions": actions})
    return goals


def rows_of_plan(plan: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The current plan's goals and actions as form rows."""
    if not plan:
        return []
    return [{"goal_id": g["goal_id"], "text": g["text"], "voice": g.get("voice", "citizen"),
             "actions": [{"action_id": a["action_id"], "text": a["text"],
                          "owner_id": a["owner_id"], "due_on": a["due_on"]}
                         for a in g.get("actions", [])]}
            for g in plan.get("goals", [])]


def with_blank_rows(goals: list[dict[str, Any]], *, new_goal: bool = False,
                    new_action_in: int | None = None) -> list[dict[str, Any]]:
    """Room to write: a blank action under each goal (or under one), a blank goal."""
    blank_action = {"action_id": "", "text": "", "owner_id": "", "due_on": ""}
    rows = [dict(g, actions=list(g["actions"])) for g in goals]
    for i, goal in enumerate(rows):
        if new_action_in == i or not goal["actions"] or goal["actions"][-1]["text"]:
            goal["actions"].append(dict(blank_action))
    if new_goal or not rows:
        rows.append({"goal_id": "", "text": "", "voice": "citizen",
                     "actions": [dict(blank_action)]})
    return rows


def goals_for_service(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                           dict[str, str]]:
    """The goals as the contract takes them (blank rows left out), and where each
    goal and action of the call sits in the form ("goals.0" -> "goals-2")."""
    goals: list[dict[str, Any]] = []
    where: dict[str, str] = {}
    for i, row in enumerate(rows):
        actions: list[dict[str, Any]] = []
        for j, a in enumerate(row["actions"]):
            if not (a["text"] or a["due_on"]):
                continue
            where[f"goals.{len(goals)}.actions.{len(actions)}"] = f"goals-{i}-actions-{j}"
            actions.append({"action_id": a["action_id"] or None, "text": a["text"],
                            "owner_id": a["owner_id"], "due_on": a["due_on"] or None})
        if not row["text"] and not actions:
            continue
        where[f"goals.{len(goals)}"] = f"goals-{i}"
        goals.append({"goal_id": row["goal_id"] or None, "text": row["text"],
                      "voice": row["voice"] or "citizen", "actions": actions})
    return goals, where


def plan_errors(problem: RpcProblem, where: dict[str, str]) -> dict[str, str]:
    """The service's errors on the plan form's own fields (ids like goals-2-text)."""
    found: dict[str, str] = {}
    for error in problem.errors:
        field_name = str(error.get("field", ""))
        parts = field_name.split(".")
        text = danish.error_text(error)
        if error.get("rule") == "schema" and parts[-1] in PLAN_FIELD_TEXTS:
            text = PLAN_FIELD_TEXTS[parts[-1]]
        target = "plan"
        for size in (4, 2):  # goals.0.actions.1.<field> / goals.0.<field>
            prefix = ".".join(parts[:size])
            if prefix in where and len(parts) == size + 1:
                target = f"{where[prefix]}-{parts[size]}"
                break
        found.setdefault(target, text)
    return found


def plan_labels(rows: list[dict[str, Any]]) -> dict[str, str]:
    """What the error summary calls each field of the plan form."""
    labels = {}
    for i, goal in enumerate(rows):
        labels[f"goals-{i}-text"] = f"Mål {i + 1}"
        labels[f"goals-{i}-voice"] = f"Mål {i + 1}: hvis ord"
        for j, _ in enumerate(goal["actions"]):
            a = f"goals-{i}-actions-{j}"
            labels[f"{a}-text"] = f"Mål {i + 1}, handling {j + 1}"
            labels[f"{a}-owner_id"] = f"Mål {i + 1}, handling {j + 1}: ansvarlig"
            labels[f"{a}-due_on"] = f"Mål {i + 1}, handling {j + 1}: frist"
    return labels


def _plan_page(ctx: WebContext, pathway: dict[str, Any], *, status: int = 200,
               errors: dict[str, str] | None = None) -> Response:
    versions = plan_versions(ctx, pathway["pathway_id"])
    names = names_of(pathway)
    return ctx.render("pathways/plan.html", status=status, pathway=pathway, versions=versions,
                      names=names, who=lambda label: who(label, names),
                      lead=is_tovholder(pathway), me_id=ctx.identity.id, errors=errors or {},
                      hows=[(h, danish.label("agreement_how", h))
                            for h in ("in_meeting", "phone", "written")],
                      statuses=[(s, danish.label("action_status", s))
                                for s in ("open", "done", "dropped")])


@page("/borgerforloeb/<pathway_id>/handleplan", roles=PATHWAY_STAFF)
def show_plan(ctx: WebContext) -> Response:
    """The current plan with each action's status, and every version with the citizen's
    agreement: who agreed (the citizen), when, how, and who recorded it."""
    pathway = pathway_of(ctx)
    if pathway is None:
        return not_found(ctx)
    return _plan_page(ctx, pathway)


@page("/borgerforloeb/<pathway_id>/handleplan/version/<int:version>", roles=PATHWAY_STAFF)
def show_plan_version(ctx: WebContext) -> Response:
    pathway = pathway_of(ctx)
    version = plan_version(ctx, ctx.args["pathway_id"], int(ctx.args["version"]))
    if pathway is None or version is None:
        return ctx.render("error.html", status=404, title="Versionen findes ikke",
                          text="Handleplanen har ikke den version. Se listen over versioner.")
    names = names_of(pathway)
    return ctx.render("pathways/plan_version.html", pathway=pathway, version=version,
                      who=lambda label: who(label, names))


def _plan_form(ctx: WebContext, pathway: dict[str, Any], rows: list[dict[str, Any]],
               base_version: int | None, *, status: int = 200,
               errors: dict[str, str] | None = None,
               conflict: dict[str, Any] | None = None) -> Response:
    owners = [(m["member_id"], f"{m['name']} ({m['role']})")
              for m in pathway.get("members", []) if m.get("active")]
    return ctx.render("pathways/plan_form.html", status=status, pathway=pathway, goals=rows,
                      base_version=base_version, owners=owners, errors=errors or {},
                      conflict=conflict, labels=plan_labels(rows),
                      voices=[(v, danish.label("goal_voice", v))
                              for v in ("citizen", "network", "team")])


@page("/borgerforloeb/<pathway_id>/handleplan/ret", methods=("GET", "POST"), roles=TOVHOLDER)
def edit_plan(ctx: WebContext) -> Response:
    """Write the plan (version 1) or its next version. The form carries the version it
    was based on; when someone else saved a version meanwhile, the person sees a clear
    message, the current plan, and their own text, kept, to add to it."""
    pathway = pathway_of(ctx)
    if pathway is None or not is_tovholder(pathway):
        return not_found(ctx)
    plan = pathway.get("plan")
    if ctx.request.method == "GET":
        return _plan_form(ctx, pathway, with_blank_rows(rows_of_plan(plan)),
                          plan["version"] if plan else None)
    form = ctx.form
    rows = plan_rows(form)
    base_text = form.get("base_version", "")
    base = int(base_text) if base_text.isdigit() else None
    more = form.get("more", "")
    if more:  # room for another goal or action: nothing is saved yet
        new_action_in = int(more.split("-")[1]) if more.startswith("action-") and \
            more.split("-")[1].isdigit() else None
        return _plan_form(ctx, pathway, with_blank_rows(rows, new_goal=more == "goal",
                                                        new_action_in=new_action_in), base)
    goals, where = goals_for_service(rows)
    try:
        if base is None:
            saved = ctx.call("coordination", "draft_plan", pathway_id=pathway["pathway_id"],
                             goals=goals)
        else:
            saved = ctx.call("coordination", "revise_plan", pathway_id=pathway["pathway_id"],
                             goals=goals, base_version=base)
    except RpcProblem as problem:
        conflict = next((e for e in problem.errors if e.get("rule") in PLAN_CONFLICTS), None)
        if problem.status == 404:
            return not_found(ctx)
        if problem.status not in (400, 409) or (problem.status == 409 and conflict is None):
            raise
        if conflict is not None:
            # Another editor came first: show what stands now, keep what this person wrote.
            fresh = pathway_of(ctx) or pathway
            current = int(conflict.get("current_version") or
                          (fresh.get("plan") or {}).get("version") or 0) or None
            standing = plan_version(ctx, pathway["pathway_id"], current) if current else None
            names = names_of(fresh)
            return _plan_form(ctx, fresh, with_blank_rows(rows), current, status=409,
                              conflict={"version": standing, "number": current,
                                        "by": who((standing or {}).get("created_by"), names)})
        return _plan_form(ctx, pathway, with_blank_rows(rows), base, status=400,
                          errors=plan_errors(problem, where))
    return ctx.redirect(f"/borgerforloeb/{pathway['pathway_id']}/handleplan",
                        notice=f"Handleplanen er gemt som version {saved['version']}. "
                               "Borgeren skal sige ja til den.")


@page("/borgerforloeb/<pathway_id>/handleplan/godkendelse", methods=("POST",), roles=TOVHOLDER)
def record_agreement(ctx: WebContext) -> Response:
    """The citizen agreed to the current version: how (in a meeting, by phone, in
    writing); when is now, and who recorded it is the signed-in person."""
    version_text = ctx.form.get("version", "")
    try:
        ctx.call("coordination", "record_plan_agreement", pathway_id=ctx.args["pathway_id"],
                 version=int(version_text) if version_text.isdigit() else 0,
                 how=ctx.form.get("how", ""))
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        pathway = pathway_of(ctx)
        if pathway is None:
            return not_found(ctx)
        return _plan_page(ctx, pathway, status=400, errors=field_errors(
            problem, {"how": "how", "version": "how"}))
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}/handleplan",
                        notice=f"Borgerens ja til version {version_text} er registreret.")


@page("/borgerforloeb/<pathway_id>/handleplan/handlinger/<action_id>", methods=("POST",),
      roles=PATHWAY_STAFF)
def set_action_status(ctx: WebContext) -> Response:
    """An action's status: the tovholder, or the member who owns it (the service
    decides who may)."""
    status = ctx.form.get("status", "")
    try:
        ctx.call("coordination", "set_action_status", pathway_id=ctx.args["pathway_id"],
                 action_id=ctx.args["action_id"], status=status)
    except RpcProblem as problem:
        if (answer := refused(ctx, problem)) is not None:
            return answer
        pathway = pathway_of(ctx)
        if pathway is None:
            return not_found(ctx)
        return _plan_page(ctx, pathway, status=400, errors={
            f"status-{ctx.args['action_id']}": danish.error_text(problem.errors[0])
            if problem.errors else "Det lykkedes ikke."})
    word = danish.label("action_status", status).lower()
    return ctx.redirect(f"/borgerforloeb/{ctx.args['pathway_id']}/handleplan",
                        notice=f"Handlingen er markeret som {word}.")
