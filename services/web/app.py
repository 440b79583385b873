"""The staff web app: server-rendered pages (Jinja2), partial updates with htmx, styled
with Det Fælles Designsystem (DKFDS). It runs inside the gateway process and calls the
services over RPC with the same contracts, identity and worklists as the API.

A page handler is as thin as an entrypoint: read the form, call a service, render. No
business rule lives here or in a template. Every form is checked on the server by the
service's own contract; each error is shown next to its field and in an error summary.
Every POST carries the session's CSRF token and an idempotency key: a double submit
does the work once and shows the same result.

Pages are registered with `@page(path, methods, roles)` in the modules of
`services/web/pages/`; a page answers a full document, or only its `fragment` block
when htmx asks (`HX-Request`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import jinja2
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from contracts.actor import StaffRole
from services.web import danish

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
ASSETS = HERE / "assets" / "node_modules"
OWN_STATIC = HERE / "static"

# Files the pages may load, by URL under /static/: nothing else is served.
STATIC_ROOTS = {
    "dkfds": ASSETS / "dkfds" / "dist",
    "htmx": ASSETS / "htmx.org" / "dist",
    "app": OWN_STATIC,
}
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; "
                                "style-src 'self'; script-src 'self'; font-src 'self'; "
                                "frame-ancestors 'none'; form-action 'self' "
                                "http://127.0.0.1:* https:"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class RpcProblem(Exception):
    """A service refused the request: `errors` name the fields ({field, rule, message})."""

    def __init__(self, status: int, title: str, errors: list[dict[str, str]] | None = None,
                 detail: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors or []
        self.detail = detail

    def by_field(self) -> dict[str, str]:
        """Each field's first error, in Danish (services.web.danish.error_text)."""
        found: dict[str, str] = {}
        for error in self.errors:
            field_name = str(error.get("field", "_")).split(".")[0]
            found.setdefault(field_name, danish.error_text(error))
        return found


Caller = Callable[..., Any]  # call(service, method, **args) -> result; raises RpcProblem


class Submissions(Protocol):
    """Where each form's idempotency key is remembered (the gateway's database)."""

    def claim(self, key: str, principal: str) -> tuple[bool, str | None]:
        """(True, None) if this key is new and now ours; else (False, where it led)."""

    def complete(self, key: str, location: str) -> None: ...

    def release(self, key: str) -> None: ...


@dataclass
class WebContext:
    """What a page handler works with."""

    app: WebApp
    request: Request
    identity: Any  # services.gateway.auth.Identity of the signed-in person
    now: dt.datetime
    caller: Caller
    args: dict[str, str] = field(default_factory=dict)  # path parameters
    ops: Any = None  # the gateway's own operator tools (dead letters)

    # -- reading ----------------------------------------------------------------------------

    @property
    def form(self) -> Any:
        return self.request.form

    @property
    def wants_fragment(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def has_role(self, *roles: StaffRole) -> bool:
        return bool(self.identity.roles & set(roles))

    # -- the services --------------------------------------------------------------------------

    def call(self, service: str, method: str, **args: Any) -> Any:
        """An RPC as the signed-in person (their actor is added)."""
        args.setdefault("actor", self.identity.actor)
        return self.caller(service, method, **args)

    # -- answering ----------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        fragment = values.pop("fragment", None)
        if not self.wants_fragment:
            fragment = None
        text = self.app.render(template, self, fragment=fragment, **values)
        return Response(text, status=status, content_type="text/html; charset=utf-8")

    def redirect(self, location: str, notice: str | None = None) -> Response:
        if notice:
            path, hash_, anchor = location.partition("#")
            joiner = "&" if "?" in path else "?"
            location = f"{path}{joiner}besked={quote(notice)}{hash_}{anchor}"
        if self.wants_fragment:  # htmx follows HX-Redirect with a full page load
            response = Response(status=204)
            response.headers["HX-Redirect"] = location
            return response
        response = Response(status=303)
        response.headers["Location"] = location
        return response


Handler = Callable[[WebContext], Response]


@dataclass(frozen=True)
class Page:
    path: str
    methods: tuple[str, ...]
    handler: Handler
    roles: frozenset[StaffRole] | None  # None: every signed-in person
    public: bool = False


_PAGES: list[Page] = []


def page(path: str, methods: Iterable[str] = ("GET",),
         roles: Iterable[StaffRole] | None = None, public: bool = False
         ) -> Callable[[Handler], Handler]:
    """Register a page handler."""

    def register(handler: Handler) -> Handler:
        _PAGES.append(Page(path, tuple(methods), handler,
                           frozenset(roles) if roles is not None else None, public))
        return handler

    return register


def form_token() -> str:
    """A fresh idempotency key for a form."""
    return str(uuid.uuid4())


class WebApp:
    """The pages, their templates and the static files."""

    def __init__(self) -> None:
        from services.web import pages

        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.filters.update(danish.filters())
        self.env.globals.update(form_token=form_token, roles=StaffRole, menu=pages.menu)
        self.pages = list(_PAGES)
        self.url_map = Map([Rule(p.path, methods=list(p.methods), endpoint=p)
                            for p in self.pages], strict_slashes=False)

    @staticmethod
    def handles(path: str) -> bool:
        return not path.startswith(("/api/", "/auth/")) and path not in (
            "/health", "/ready", "/api")

    def render(self, template: str, ctx: WebContext | None, fragment: str | None = None,
               **values: Any) -> str:
        tmpl = self.env.get_template(template)
        context = {"ctx": ctx, "me": ctx.identity if ctx else None,
                   "notice": ctx.request.args.get("besked") if ctx else None, **values}
        if fragment:
            return "".join(tmpl.blocks[fragment](tmpl.new_context(context)))
        return tmpl.render(context)

    # -- the request cycle ------------------------------------------------------------------

    def respond(self, request: Request, *, identity_of: Callable[[], Any],
                caller: Caller, now: dt.datetime, submissions: Submissions,
                ops: Any = None) -> Response:
        """Answer one request. `identity_of()` gives the session's identity (or None);
        `submissions` remembers each form's idempotency key and where it led."""
        if request.path.startswith("/static/"):
            return self._static(request.path[len("/static/"):])
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            found, args = adapter.match()
        except MethodNotAllowed as exc:
            response = self._error(request, None, 405, "Det kan man ikke her",
                                   "Siden tager ikke imod den slags forespørgsler.")
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or []))
            return response
        except NotFound:
            return self._error(request, None, 404, "Siden findes ikke",
                               "Tjek adressen, eller gå til din arbejdsliste.")
        page_: Page = found
        identity = identity_of()
        if identity is None and not page_.public:
            target = request.full_path.rstrip("?") if request.method == "GET" else "/"
            response = Response(status=303)
            response.headers["Location"] = f"/auth/login?return_to={quote(target)}"
            return self._secure(response)
        if identity is not None and page_.roles is not None and not (identity.roles & page_.roles):
            return self._error(request, identity, 403, "Du har ikke adgang til denne side",
                               "Din rolle giver ikke adgang hertil.")
        ctx = WebContext(self, request, identity, now, caller,
                         {k: str(v) for k, v in args.items()}, ops)
        if request.method not in ("GET", "HEAD"):
            token = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
            expected = getattr(identity, "session_csrf", None)
            if not expected or not token or not secrets.compare_digest(token, expected):
                return self._error(request, identity, 403, "Formularen er udløbet",
                                   "Indlæs siden igen, og send formularen en gang til.")
            key = request.form.get("idempotency_key")
            if key:
                return self._secure(self._once(ctx, page_, _key(key, request), submissions))
        return self._secure(page_.handler(ctx))

    def _once(self, ctx: WebContext, page_: Page, key: str, submissions: Submissions
              ) -> Response:
        """Run a form's handler once per idempotency key; a second submit of the same
        form is sent where the first one led."""
        claimed, location = submissions.claim(key, ctx.identity.label)
        if not claimed:
            if location:
                return ctx.redirect(location)
            return self._error(ctx.request, ctx.identity, 409, "Formularen er allerede sendt",
                               "Vi er ved at behandle den. Opdater siden om et øjeblik.")
        try:
            response = page_.handler(ctx)
        except BaseException:
            submissions.release(key)
            raise
        location = response.headers.get("Location") or response.headers.get("HX-Redirect")
        if response.status_code in (303, 204) and location:
            submissions.complete(key, location)
        else:  # the form came back with errors: it may be corrected and sent again
            submissions.release(key)
        return response

    def failure(self) -> Response:
        """What a person sees when something broke on our side (never a trace)."""
        return self._error(None, None, 500, "Der skete en fejl hos os",
                           "Prøv igen om lidt. Bliver det ved, så kontakt driften.")

    def _error(self, request: Request | None, identity: Any, status: int, title: str,
               text: str) -> Response:
        body = self.env.get_template("error.html").render(
            ctx=None, me=identity, notice=None, title=title, text=text)
        return self._secure(Response(body, status=status,
                                     content_type="text/html; charset=utf-8"))

    @staticmethod
    def _secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _static(self, rest: str) -> Response:
        root_name, _, relative = rest.partition("/")
        root = STATIC_ROOTS.get(root_name)
        if root is None or not relative:
            return Response("Ikke fundet", status=404)
        path = (root / relative).resolve()
        if not path.is_file() or root.resolve() not in path.parents:
            return Response("Ikke fundet", status=404)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        response = Response(path.read_bytes(), content_type=kind)
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _key(key: str, request: Request) -> str:
    """The stored key: the form's key bound to the path it was sent to."""
    return hashlib.sha256(json.dumps([key, request.path]).encode()).hexdigest()


_APP: WebApp | None = None


def web_app() -> WebApp:
    """The one WebApp of this process (templates are loaded once)."""
    global _APP
    if _APP is None:
        _APP = WebApp()
    return _APP
