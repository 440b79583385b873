"""Citizens at Fronten: find a citizen by CPR number (only ever in a POST body) or by name
and birth date, register one, and the citizen's page: name and contact as far as the
caller may see them, the CPR number only when asked (a logged read of its own), and the
citizen's consents: given, withdrawn, given anew with recipient and purpose picked from
intake's consent vocabulary (never typed), and those written before the vocabulary
corrected."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item
from services.web.pages.fronten import PURPOSE, form_errors, not_found, render
from services.web.worklists import subject_page

FRONTEN = {StaffRole.FRONTEN}
# Social Vejledning reads the citizens it has a § 85 referral for (intake decides).
READERS = {StaffRole.FRONTEN, StaffRole.SOCIAL_VEJLEDNING}
PURPOSE_85 = "Vurdering efter servicelovens § 85"

menu_item("Borgere", "/borgere", FRONTEN, order=15)
subject_page("consent", "/borgere/{citizen_ref}/samtykker/{subject_id}")

CONTACT_CHANNELS = ("email", "sms", "letter")
CONSENT_FORMS = ("written", "oral", "digital")
danish.add_labels("contact_channel", {"email": "E-mail", "sms": "SMS",
                                      "letter": "Brev (Digital Post eller papir)"})
danish.add_labels("consent_form", {"written": "Skriftligt", "oral": "Mundtligt",
                                   "digital": "Digitalt"})
danish.add_labels("consent_correction", {
    "recipient_unknown": "Modtageren er ikke kendt",
    "purpose_unknown": "Formålet er ikke kendt",
    "recipient_and_purpose_unknown": "Hverken modtager eller formål er kendt",
    "recipient_not_in_directory": "Modtageren er ikke i partnerkataloget",
})
danish.add_labels("citizen_scope", {"full": "alt", "name_and_contact": "navn og kontakt",
                                    "name": "navn", "first_name": "fornavn"})
danish.add_rule_texts({
    "citizen.already_registered": "CPR-nummeret er allerede registreret. Find borgeren under "
                                  "»Find en borger«.",
    "citizen.name_missing": "Skriv borgerens navn.",
    "contact.email_missing": "Borgeren vil helst have e-mail: skriv en e-mailadresse.",
    "contact.phone_missing": "Borgeren vil helst have sms: skriv et telefonnummer.",
    "contact.channel_unknown": "Vælg en af mulighederne.",
    "contact.address_blank": "Skriv adressen, eller lad feltet stå tomt.",
    "consent.recipient_unknown": "Vælg en modtager fra listen.",
    "consent.recipient_not_for_purpose": "Modtageren passer ikke til formålet. Forvaltninger "
                                         "bruges til samarbejde i et borgerforløb; "
                                         "samarbejdspartnere til de øvrige formål.",
    "consent.purpose_unknown": "Vælg et formål fra listen.",
    "consent.information_kinds_missing": "Vælg mindst én slags oplysninger.",
    "consent.information_kind_unknown": "Vælg fra listen.",
    "consent.form_unknown": "Vælg, hvordan samtykket er givet.",
    "consent.already_withdrawn": "Samtykket er allerede trukket tilbage.",
    "consent.nothing_to_correct": "Samtykket er allerede i orden. Træk det tilbage, og giv "
                                  "et nyt, hvis det skal ændres.",
    "consent.in_future": "Et samtykke kan ikke dateres i fremtiden.",
    "consent.withdrawn_before_given": "Et samtykke kan ikke trækkes tilbage, før det er "
                                      "givet.",
})

CITIZEN_LABELS = {"cpr": "CPR-nummer", "name": "Navn", "email": "E-mail",
                  "phone": "Telefon", "address": "Adresse",
                  "preferred_channel": "Hvordan vil borgeren helst kontaktes?"}
FIND_LABELS = {"cpr": "CPR-nummer", "name": "Navn", "birth_date": "Fødselsdato"}
CONSENT_LABELS = {"recipient": "Modtager", "purpose": "Formål",
                  "information_kinds": "Hvilke oplysninger må deles?",
                  "form": "Hvordan er samtykket givet?"}


def _purpose(ctx: WebContext) -> str:
    return PURPOSE if ctx.has_role(StaffRole.FRONTEN) else PURPOSE_85


def _no_store(response: Response) -> Response:
    """Pages with a citizen's data are not kept in the browser's cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


# -- finding and registering ---------------------------------------------------------------------


def _find_page(ctx: WebContext, status: int = 200, errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None, message: str | None = None) -> Response:
    return _no_store(render(ctx, "citizens/find.html", status=status, errors=errors or {},
                                values=values or {}, labels=FIND_LABELS, message=message))


@page("/borgere", roles=FRONTEN)
def find_citizen_page(ctx: WebContext) -> Response:
    return _find_page(ctx)


@page("/borgere/find", methods=("POST",), roles=FRONTEN)
def find_citizen(ctx: WebContext) -> Response:
    values = {key: ctx.form.get(key, "").strip() for key in ("cpr", "name", "birth_date")}
    args: dict[str, Any] = {"purpose": PURPOSE}
    if values["cpr"]:
        args["cpr"] = values["cpr"]
    else:
        args.update(name=values["name"] or None, birth_date=values["birth_date"] or None)
    try:
        found = ctx.call("intake", "match_citizen", **args)
    except RpcProblem as problem:
        if problem.status != 400:
            raise
        return _find_page(ctx, 400, form_errors(problem), values)
    if found.get("citizen_ref"):
        return ctx.redirect(f"/borgere/{found['citizen_ref']}")
    if values["cpr"]:  # not known: register the citizen, the number already typed
        return _new_page(ctx, values={"cpr": values["cpr"], "preferred_channel": "letter"},
                         message="Der er ingen borger med dette CPR-nummer. Registrér "
                                 "borgeren her.")
    return _find_page(ctx, values=values, message="Vi fandt ingen borger med præcis dette "
                                                  "navn og denne fødselsdato. Søg med "
                                                  "CPR-nummeret.")


def _new_page(ctx: WebContext, status: int = 200, errors: dict[str, str] | None = None,
              values: dict[str, str] | None = None, message: str | None = None) -> Response:
    channels = [(code, danish.label("contact_channel", code)) for code in CONTACT_CHANNELS]
    return _no_store(render(ctx, "citizens/new.html", status=status, errors=errors or {},
                                values=values or {"preferred_channel": "letter"},
                                labels=CITIZEN_LABELS, channels=channels, message=message))


@page("/borgere/ny", methods=("GET", "POST"), roles=FRONTEN)
def register_citizen(ctx: WebContext) -> Response:
    if ctx.request.method == "GET":
        return _new_page(ctx)
    values = {key: ctx.form.get(key, "").strip() for key in CITIZEN_LABELS}
    try:
        created = ctx.call("intake", "register_citizen", cpr=values["cpr"], name=values["name"],
                           email=values["email"] or None, phone=values["phone"] or None,
                           address=values["address"] or None,
                           preferred_channel=values["preferred_channel"])
    except RpcProblem as problem:
        if problem.status != 400:
            raise
        return _new_page(ctx, 400, form_errors(problem), values)
    return ctx.redirect(f"/borgere/{created['citizen_ref']}", notice="Borgeren er registreret.")


# -- the citizen's page ----------------------------------------------------------------------------


def _citizen(ctx: WebContext, show_cpr: bool = False) -> dict[str, Any] | None:
    try:
        return dict(ctx.call("intake", "get_citizen", citizen_ref=ctx.args["citizen_ref"],
                             purpose=_purpose(ctx), show_cpr=show_cpr))
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise


def _vocabulary(ctx: WebContext) -> dict[str, Any]:
    """The consent form's pick lists, as intake names them."""
    vocabulary = ctx.call("intake", "consent_vocabulary")
    kinds = {"partner": "samarbejdspartner", "agency": "forvaltning i et borgerforløb"}
    return {
        "recipients": [(r["recipient"], f"{r['name']} ({kinds.get(r['kind'], '')})")
                       for r in vocabulary["recipients"]],
        "purposes": [(p["purpose"], _capital(p["text"])) for p in vocabulary["purposes"]],
        "information_kinds": [(k["information_kind"], _capital(k["text"]))
                              for k in vocabulary["information_kinds"]],
        "kind_texts": {k["information_kind"]: k["text"]
                       for k in vocabulary["information_kinds"]},
    }


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _citizen_page(ctx: WebContext, status: int = 200, errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None) -> Response:
    wants_cpr = ctx.request.args.get("vis") == "cpr"
    citizen = _citizen(ctx, show_cpr=wants_cpr and ctx.request.method == "GET")
    if citizen is None:
        return not_found(ctx, "Borgeren findes ikke",
                         "Måske er adressen forkert, eller du har ikke adgang til borgeren.")
    if ctx.wants_fragment and wants_cpr:  # htmx: only the CPR number
        return _no_store(render(ctx, "citizens/citizen.html", citizen=citizen, fragment="cpr"))
    consents: list[dict[str, Any]] = []
    vocabulary: dict[str, Any] = {}
    if ctx.has_role(StaffRole.FRONTEN):
        consents = list(ctx.call("intake", "list_consents", citizen_ref=citizen["citizen_ref"],
                                 purpose=PURPOSE))
        vocabulary = _vocabulary(ctx)
    return _no_store(render(ctx,
        "citizens/citizen.html", status=status, citizen=citizen, consents=consents,
        vocabulary=vocabulary, errors=errors or {},
        values=values or {"form": "written", "information_kinds": []},
        labels=CONSENT_LABELS, forms=[(code, danish.label("consent_form", code))
                                      for code in CONSENT_FORMS],
        fronten=ctx.has_role(StaffRole.FRONTEN)))


@page("/borgere/<citizen_ref>", roles=READERS)
def show_citizen(ctx: WebContext) -> Response:
    return _citizen_page(ctx)


@page("/borgere/<citizen_ref>/samtykker", methods=("POST",), roles=FRONTEN)
def give_consent(ctx: WebContext) -> Response:
    form = ctx.form
    values = {"recipient": form.get("recipient", ""), "purpose": form.get("purpose", ""),
              "information_kinds": form.getlist("information_kinds"),
              "form": form.get("form", "")}
    try:
        ctx.call("intake", "give_consent", citizen_ref=ctx.args["citizen_ref"], **values)
    except RpcProblem as problem:
        if problem.status == 404:
            return not_found(ctx, "Borgeren findes ikke", "Find borgeren igen.")
        if problem.status != 400:
            raise
        return _citizen_page(ctx, 400, form_errors(problem), values)
    return ctx.redirect(f"/borgere/{ctx.args['citizen_ref']}",
                        notice="Samtykket er registreret.")


@page("/borgere/<citizen_ref>/samtykker/<consent_id>/tilbagetraekning", methods=("POST",),
      roles=FRONTEN)
def withdraw_consent(ctx: WebContext) -> Response:
    try:
        ctx.call("intake", "withdraw_consent", consent_id=ctx.args["consent_id"])
    except RpcProblem as problem:
        if problem.status == 404:
            return not_found(ctx, "Samtykket findes ikke", "Gå tilbage til borgerens side.")
        if problem.status != 400:
            raise
        return _citizen_page(ctx, 400, form_errors(problem, {"consent_id": "consents"}))
    return ctx.redirect(f"/borgere/{ctx.args['citizen_ref']}",
                        notice="Samtykket er trukket tilbage.")


# -- correcting a consent written before the vocabulary --------------------------------------------


def _consent(ctx: WebContext) -> dict[str, Any] | None:
    try:
        consents = ctx.call("intake", "list_consents", citizen_ref=ctx.args["citizen_ref"],
                            purpose=PURPOSE)
    except RpcProblem as problem:
        if problem.status in (400, 404):
            return None
        raise
    return next((dict(c) for c in consents if c["consent_id"] == ctx.args["consent_id"]), None)


@page("/borgere/<citizen_ref>/samtykker/<consent_id>", methods=("GET", "POST"), roles=FRONTEN)
def correct_consent(ctx: WebContext) -> Response:
    consent = _consent(ctx)
    if consent is None:
        return not_found(ctx, "Samtykket findes ikke", "Gå tilbage til borgerens side.")
    errors: dict[str, str] = {}
    values = {"recipient": "", "purpose": ""}
    if ctx.request.method == "POST":
        values = {key: ctx.form.get(key, "") for key in values}
        try:
            ctx.call("intake", "correct_consent", consent_id=consent["consent_id"], **values)
        except RpcProblem as problem:
            if problem.status != 400:
                raise
            errors = form_errors(problem)
        else:
            return ctx.redirect(f"/borgere/{ctx.args['citizen_ref']}",
                                notice="Samtykket er rettet.")
    return _no_store(render(ctx, "citizens/correct_consent.html", status=400 if errors else 200,
                                consent=consent, vocabulary=_vocabulary(ctx), errors=errors,
                                values=values, labels=CONSENT_LABELS))
