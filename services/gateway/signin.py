"""The gateway's identity routes: sign-in with OpenID Connect, sign-out, who am I, the
staff directory, and machine/partner tokens. Each handler is thin: it parses, calls
auth/oidc, and answers.

The `Identities` dependency builds the OpenID provider client and the authenticator
once per gateway process; in production it refuses the development provider (and a
plain-http issuer) before the gateway accepts a single request.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import secrets
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from nameko.extensions import DependencyProvider
from sqlalchemy import delete, select
from werkzeug.wrappers import Request, Response

from contracts.actor import StaffRole
from contracts.fields import Enum
from contracts.vocabulary import Agency
from services.common.db import Store
from services.common.rpc import errors_from_marshmallow
from services.gateway import api
from services.gateway.auth import (
    SESSION_COOKIE,
    Authenticator,
    CsrfMismatch,
    Identity,
    Role,
    create_token,
    end_session,
    hash_token,
    list_staff,
    list_tokens,
    open_session,
    revoke_token,
    staff_view,
    token_view,
    upsert_staff,
)
from services.gateway.models import ApiToken, OidcLogin
from services.gateway.oidc import (
    DevelopmentProviderRefused,
    InvalidToken,
    OidcProvider,
    OidcSettings,
    ProviderUnavailable,
    StaffClaims,
    staff_from_claims,
)

log = logging.getLogger(__name__)

LOGIN_TTL = dt.timedelta(minutes=10)


class Identities(DependencyProvider):
    """The OpenID provider client and the bearer-token authenticator of this gateway."""

    settings: OidcSettings | None
    provider: OidcProvider | None
    authenticator: Authenticator

    def setup(self) -> None:
        config = self.container.config
        self.settings = OidcSettings.from_config(config)
        self.provider = OidcProvider(self.settings) if self.settings else None
        self.production = str(config.get("SAMSPIL_ENV", "development")).lower() == "production"
        if self.provider is not None and not self.settings.allow_development_provider:  # type: ignore[union-attr]
            try:
                self.provider.check_allowed()
            except ProviderUnavailable as exc:
                raise DevelopmentProviderRefused(
                    f"production cannot start: the identity provider does not answer ({exc})"
                ) from None
        self.authenticator = Authenticator(
            self.provider, cache_seconds=float(config.get("TOKEN_CACHE_SECONDS", 1.0)))

    def get_dependency(self, worker_ctx: Any) -> Identities:
        return self


# -- pages a person may see during sign-in (Danish, plain) ------------------------------------


def page(title: str, body: str, status: int = 200) -> Response:
    text = f"""<!doctype html>
<html lang="da"><head><meta charset="utf-8"><title>{html.escape(title)} · Samspil</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return Response(text, status=status, content_type="text/html; charset=utf-8")


def _safe_return_to(value: str | None) -> str:
    """Only a path on this site: no open redirect to somewhere else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


def _cookie_secure(identities: Identities) -> bool:
    settings = identities.settings
    return identities.production or bool(settings and settings.redirect_uri.startswith("https"))


def login(identities: Identities, store: Store, request: Request, now: dt.datetime) -> Response:
    provider = identities.provider
    if provider is None:
        return page("Log ind er ikke sat op", "<p>Samspil kender ingen identitetsudbyder. "
                    "Kontakt driften.</p>", 503)
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(24)
    try:
        url = provider.authorization_url(state=state, code_verifier=verifier, nonce=nonce)
    except ProviderUnavailable as exc:
        log.warning("gateway: identity provider unavailable at sign-in: %s", exc)
        return page("Log ind er ikke muligt lige nu", "<p>Kommunens log ind-tjeneste svarer "
                    "ikke. Prøv igen om lidt.</p>", 503)
    with store.unit_of_work() as uow:
        # Sign-ins older than their lifetime are of no use: clear them on the way.
        uow.session.execute(delete(OidcLogin).where(OidcLogin.created_at < now - LOGIN_TTL))
        uow.session.add(OidcLogin(state=state, code_verifier=verifier, nonce=nonce,
                                  return_to=_safe_return_to(request.args.get("return_to")),
                                  created_at=now))
        uow.commit()
    response = Response(status=302)
    response.headers["Location"] = url
    response.headers["Cache-Control"] = "no-store"
    return response


def callback(identities: Identities, store: Store, request: Request,
             now: dt.datetime) -> Response:
    provider = identities.provider
    if provider is None:
        return page("Log ind er ikke sat op", "<p>Kontakt driften.</p>", 503)
    again = '<p><a href="/auth/login">Prøv at logge ind igen</a>.</p>'
    if request.args.get("error"):
        return page("Log ind blev afbrudt", again, 400)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    with store.unit_of_work() as uow:
        attempt = uow.session.get(OidcLogin, state) if state else None
        if attempt is not None:
            uow.session.delete(attempt)  # a state is used once
            uow.commit()
    if attempt is None or attempt.created_at < now - LOGIN_TTL or not code:
        return page("Log ind er udløbet", again, 400)
    issuer = request.args.get("iss")
    if issuer and issuer.rstrip("/") != provider.settings.issuer:  # RFC 9207 mix-up defence
        return page("Log ind mislykkedes", again, 400)
    try:
        tokens = provider.exchange(code=code, code_verifier=attempt.code_verifier)
        id_token = str(tokens.get("id_token") or "")
        claims = provider.validate(id_token, audience=provider.settings.client_id,
                                   nonce=attempt.nonce)
        staff = staff_from_claims(claims, provider.settings)
    except ProviderUnavailable as exc:
        log.warning("gateway: identity provider unavailable at callback: %s", exc)
        return page("Log ind er ikke muligt lige nu", "<p>Kommunens log ind-tjeneste svarer "
                    "ikke. Prøv igen om lidt.</p>", 503)
    except InvalidToken as exc:
        log.info("gateway: sign-in refused: %s", exc.reason)
        if "role" in exc.reason:
            return page("Du har ingen adgang til Samspil",
                        "<p>Din bruger har ingen rolle i Samspil. Kontakt din leder, hvis du "
                        "skal bruge systemet.</p>", 403)
        return page("Log ind mislykkedes", again, 401)
    with store.unit_of_work() as uow:
        if not staff.is_partner:  # partners' users are not the municipality's staff
            upsert_staff(uow.session, staff, now)
        cookie = open_session(uow.session, staff, now=now, hours=provider.settings.session_hours,
                              id_token=id_token)
        uow.commit()
    log.info("gateway: staff:%s signed in with roles %s", staff.staff_id,
             ",".join(sorted(staff.roles)))
    response = Response(status=302)
    response.headers["Location"] = attempt.return_to
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(provider.settings.session_hours * 3600),
                        httponly=True, samesite="Lax", secure=_cookie_secure(identities),
                        path="/")
    return response


def logout(identities: Identities, store: Store, request: Request, now: dt.datetime) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    with store.unit_of_work() as uow:
        try:
            hint = end_session(uow.session, cookie, now, request.form.get("csrf"))
        except CsrfMismatch:
            return page("Log af mislykkedes", '<p>Formularen var udløbet. <a href="/">Gå til '
                        "forsiden</a> og prøv igen.</p>", 403)
        uow.commit()
    location = "/"
    if identities.provider is not None:
        base = identities.provider.settings.redirect_uri.split("/auth/")[0] + "/"
        try:
            location = identities.provider.end_session_url(id_token_hint=hint,
                                                           post_logout=base) or "/"
        except ProviderUnavailable:
            location = "/"
    response = Response(status=303)
    response.headers["Location"] = location
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- who am I, the directory, tokens ------------------------------------------------------------


def me(identity: Identity) -> dict[str, Any]:
    return {"id": identity.id, "name": identity.name, "kind": identity.kind,
            "roles": sorted(r.value for r in identity.roles), "agency": identity.agency,
            "partner_id": identity.partner_id, "via": identity.via}


def staff_list(store: Store, request: Request) -> dict[str, Any]:
    role, agency = request.args.get("role"), request.args.get("agency")
    if role is not None and role not in {r.value for r in StaffRole}:
        raise api.field_problem("role", "one_of", "role must be one of "
                                + ", ".join(r.value for r in StaffRole) + ".")
    with store.read() as session:
        rows = list_staff(session, role, agency)
    return {"items": rows, "count": len(rows)}


class StaffArgs(Schema):
    staff_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$", error="Letters, digits and . _ @ + -."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    agency = Enum(Agency, load_default=None, allow_none=True)
    roles = fields.List(Enum(StaffRole), required=True, validate=validate.Length(min=1))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(r"^\+?[0-9][0-9 ]{5,30}$",
                                                   error="Digits, spaces and a leading +."))


def _load(schema: Schema, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(schema.load(body))
    except ValidationError as exc:
        raise api.Problem(400, "Invalid request", "Some fields are not valid.",
                          errors_from_marshmallow(exc.messages)) from None


def staff_upsert(store: Store, body: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    args = _load(StaffArgs(), body)
    staff = StaffClaims(staff_id=args["staff_id"], name=args["name"].strip(),
                        roles=frozenset(args["roles"]),
                        agency=args["agency"].value if args["agency"] else None,
                        email=args["email"], phone=args["phone"])
    with store.unit_of_work() as uow:
        row = upsert_staff(uow.session, staff, now, source="operator")
        uow.commit()
        return staff_view(row)


class TokenArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    role = Enum(StaffRole, required=True)
    partner_id = fields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(r"^[a-z0-9][a-z0-9._-]{0,63}$"))
    expires_in_days = fields.Integer(load_default=90, strict=True,
                                     validate=validate.Range(min=1, max=730))


def tokens_create(store: Store, body: dict[str, Any], identity: Identity,
                  now: dt.datetime, partner_exists: Callable[[str], bool]) -> dict[str, Any]:
    args = _load(TokenArgs(), body)
    if args["role"] is Role.PARTNER and not args["partner_id"]:
        raise api.field_problem("partner_id", "required", "A partner token needs partner_id.")
    if args["role"] is Role.PARTNER and not partner_exists(args["partner_id"]):
        raise api.field_problem("partner_id", "partner_unknown",
                                "No active partner with this id in the partners directory: "
                                "register the partner first (POST /api/partners).")
    with store.unit_of_work() as uow:
        token = create_token(uow.session, name=args["name"], role=args["role"],
                             partner_id=args["partner_id"], now=now,
                             expires_at=now + dt.timedelta(days=args["expires_in_days"]),
                             created_by=identity.label)
        uow.session.flush()
        row = uow.session.execute(
            select(ApiToken).where(ApiToken.token_hash == hash_token(token))).scalar_one()
        view = token_view(row, now)
        uow.commit()
    log.info("gateway: %s made token %s (%s)", identity.label, view["token_id"], view["role"])
    return {**view, "token": token}


def tokens_list(store: Store, now: dt.datetime) -> dict[str, Any]:
    with store.read() as session:
        rows = list_tokens(session, now)
    return {"items": rows, "count": len(rows)}


def tokens_revoke(identities: Identities, store: Store, token_id: str, identity: Identity,
                  now: dt.datetime) -> dict[str, Any]:
    if not token_id.isdigit() or len(token_id) > 18:
        raise api.field_problem("token_id", "integer", "token_id must be a whole number.")
    with store.unit_of_work() as uow:
        row = revoke_token(uow.session, int(token_id), by=identity.label, now=now)
        if row is None:
            raise api.Problem(404, "Not found", "", [{"field": "token_id", "rule": "not_found",
                                                      "message": "No such token."}])
        view, token_hash = token_view(row, now), row.token_hash
        uow.commit()
    identities.authenticator.forget(token_hash)  # refused from the next request on
    log.info("gateway: %s revoked token %s", identity.label, token_id)
    return view
