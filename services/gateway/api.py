"""The HTTP API as data: one route table drives dispatch, validation and OpenAPI.

Every route names the roles that may call it, the RPC it forwards to and the
contract schema of its arguments. The gateway adds `actor` (from the token, never
from the client), validates the body with the same marshmallow schema the service
uses, and turns every failure into an RFC 9457 problem body: 400 naming each bad
field, 401/403 (logged), 404, 413, 415, 503/504 when a service does not answer in
time. Never a stack trace.
"""

from __future__ import annotations

import json
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from services.common import pii, sanity
from services.common.rpc import errors_from_marshmallow
from services.gateway.auth import STAFF, Identity, Role
from services.gateway.routes import coordination as coordination_routes
from services.gateway.routes import housing as housing_routes
from services.gateway.routes import intake as intake_routes
from services.gateway.routes import notifications as notifications_routes
from services.gateway.routes import partners as partners_routes
from services.gateway.routing import ALL, OPERATOR, Route, RouteTable

STAFF_ROLES = frozenset(STAFF)


class HealthView(Schema):
    status = fields.String(required=True)
    service = fields.String(required=True)
    at = fields.String(required=True)


class ReadyView(Schema):
    status = fields.String(required=True)  # ready | not ready
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class MeView(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)  # staff | partner
    roles = fields.List(fields.String(), required=True)
    agency = fields.String(allow_none=True, required=True)
    partner_id = fields.String(allow_none=True, required=True)
    via = fields.String(required=True)  # token | oidc | session
# Fronten answers a citizen's request for insight; operators may help.
ACCESS_REPORT = frozenset({Role.FRONTEN, Role.OPERATOR})

PROBLEM_JSON = "application/problem+json"
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def looks_like_cpr(text: str) -> bool:
    """Whether a URL part carries a CPR number (services.common.pii: ten digits standing
    alone whose first six are a real date; other 10-digit ids are not)."""
    return pii.contains_cpr(text)


UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


#: What a 503 tells the client to wait before trying again (seconds).
RETRY_AFTER_SECONDS = 5


class Problem(Exception):
    """An HTTP error with an RFC 9457 body."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: list[dict[str, str]] | None = None,
        type_: str = "about:blank",
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.type = type_
        self.allow: list[str] = []

    def response(self, instance: str = "", request_id: str | None = None) -> Response:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        # A 404 names no path: "not found" reads the same for every id, so a missing
        # record and one the caller may not see cannot be told apart.
        if instance and self.status != 404:
            # Never echo a CPR number, whatever the caller put in the URL.
            body["instance"] = pii.mask_cpr(instance)
        if self.errors:
            body["errors"] = self.errors
        if request_id:
            body["request_id"] = request_id
        response = Response(json.dumps(body, ensure_ascii=False), status=self.status,
                            content_type=PROBLEM_JSON)
        if self.status == 405 and self.allow:
            response.headers["Allow"] = ", ".join(self.allow)
        if self.status == 503:
            # Something we depend on is down or restarting: worth trying again shortly.
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


# What a partner is told for every 404, whatever the reason: one body, so that another
# partner's record and a missing one are indistinguishable (apart from the request id).
PARTNER_NOT_FOUND = ("Not found", "No such resource.")


def field_problem(field_name: str, rule: str, message: str, status: int = 400) -> Problem:
    return Problem(status, "Invalid request", message,
                   [{"field": field_name, "rule": rule, "message": message}])


# The route table: every RPC method of every service, plus what the gateway answers
# itself. OpenAPI and the route test follow it automatically.
ROUTES = RouteTable(
    [
        Route("GET", "/health", ALL, "The gateway process is up.", local="health", tag="ops",
              result=HealthView),
        Route("GET", "/ready", ALL, "Broker and database reachable, and every service the "
              "gateway routes to has an instance running.", local="ready", tag="ops",
              result=ReadyView),
        *intake_routes.ROUTES,
        *coordination_routes.ROUTES,
        *housing_routes.ROUTES,
        *notifications_routes.ROUTES,
        *partners_routes.ROUTES,
        Route("GET", "/auth/login", ALL, "Sign in with the municipality's identity "
              "provider (OpenID Connect, code flow with PKCE).", local="auth_login",
              tag="auth", query=("return_to",), status=302),
        Route("GET", "/auth/callback", ALL, "Where the identity provider sends the browser "
              "back after sign-in.", local="auth_callback", tag="auth",
              query=("code", "state", "iss", "error"), status=302),
        Route("POST", "/auth/logout", ALL, "Sign out of the web app (and the provider).",
              local="auth_logout", tag="auth", status=303),
        Route("GET", "/api/citizens/<citizen_ref>/access-report", ACCESS_REPORT,
              "Who has read, searched, changed or passed on the citizen's data, when and "
              "why, across every service (the citizen's request for insight).",
              local="access_report", tag="auth", uuid_params=("citizen_ref",)),
        Route("GET", "/api/me", ALL, "Who the caller is: id, name, roles, agency.",
              local="me", tag="auth", result=MeView),
        Route("GET", "/api/staff", STAFF_ROLES, "The staff directory (for picking team "
              "members and tovholdere).", local="staff_list", tag="auth",
              query=("role", "agency")),
        Route("POST", "/api/staff", OPERATOR, "Add or update a person in the staff directory.",
              local="staff_upsert", tag="auth", status=201),
        Route("GET", "/api/tokens", OPERATOR, "Machine and partner tokens, with their state.",
              local="tokens_list", tag="auth"),
        Route("POST", "/api/tokens", OPERATOR, "Make a machine or partner token (shown once).",
              local="tokens_create", tag="auth", status=201),
        Route("DELETE", "/api/tokens/<token_id>", OPERATOR, "Revoke a token at once.",
              local="tokens_revoke", tag="auth"),
        Route("GET", "/api/dead-letters", OPERATOR,
              "List dead letters of every service.", local="dead_letters_list", tag="ops",
              query=("service",)),
        Route("GET", "/api/dead-letters/<dead_letter_id>", OPERATOR,
              "Show one dead letter with its error and body.", local="dead_letters_show",
              uuid_params=("dead_letter_id",), tag="ops"),
        Route("POST", "/api/dead-letters/<dead_letter_id>/replay", OPERATOR,
              "Replay a dead letter to the queue it failed on.", local="dead_letters_replay",
              uuid_params=("dead_letter_id",), tag="ops"),
    ]
)

URL_MAP = ROUTES.url_map()  # built once: the table does not change at run time
PUBLIC_ENDPOINTS = {"GET /health", "GET /ready", "GET /auth/login", "GET /auth/callback",
                    "POST /auth/logout"}


def allowed(route: Route, identity: Identity | None) -> bool:
    return route.endpoint in PUBLIC_ENDPOINTS or (
        identity is not None and identity.may(route.roles)
    )


NUL_MESSAGE = sanity.NUL_MESSAGE
YEARS = sanity.YEARS


def check_url(request: Request) -> None:
    for name, value in [("path", request.path), *request.args.items(multi=True)]:
        if looks_like_cpr(value):
            raise field_problem(name, "cpr_in_url",
                                "A CPR number must never be sent in a URL; send it in the body.")
        if "\x00" in value:
            raise field_problem(name, "nul_character", NUL_MESSAGE)
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise field_problem(name, "lone_surrogate", sanity.SURROGATE_MESSAGE)


def check_text(value: Any, where: str = "") -> None:
    """No NUL characters anywhere in a body (services.common.sanity), and no CPR number
    outside a field named `cpr` (services.common.pii; the value is never echoed)."""
    problem = (sanity.nul_problem(value, where) or sanity.surrogate_problem(value, where)
               or pii.text_problem(value, where))
    if problem:
        raise field_problem(*problem)


MAX_JSON_DEPTH = 64


def _depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    """The JSON object in the body ({} when there is none)."""
    if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # A body of unknown length: send Content-Length (the limit is checked up front).
        raise Problem(411, "Length required", "Send the body with a Content-Length.")
    length = request.content_length
    if length is not None and length > max_bytes:
        raise Problem(413, "Request body too large", f"At most {max_bytes} bytes.")
    raw = request.get_data(cache=False)
    if len(raw) > max_bytes:
        raise Problem(413, "Request body too large", f"At most {max_bytes} bytes.")
    if not raw:
        return {}
    if request.mimetype != "application/json":
        raise Problem(415, "Unsupported media type", "Send JSON (Content-Type: application/json).")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise field_problem("_body", "json_depth",
                            f"The body nests deeper than {MAX_JSON_DEPTH} levels.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise field_problem("_body", "json", f"The body is not valid JSON: {exc}") from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise field_problem("_body", "json_depth",
                            f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    if not isinstance(body, dict):
        raise field_problem("_body", "json_object", "The body must be a JSON object.")
    check_text(body)
    return body


def check_path(route: Route, path_args: dict[str, str]) -> None:
    """Malformed ids are a 400 naming the parameter, not a 404 or a 500."""
    for name in route.uuid_params:
        if not UUID_RE.match(path_args.get(name, "")):
            raise field_problem(name, "uuid", f"{name} must be a UUID.")


def _fields(route: Route) -> dict[str, Any]:
    schema = route.args_schema
    return dict(schema().fields) if schema is not None else {}


def _from_text(field_: Any, value: str) -> Any:
    """A path or query value (always text) as the contract's field expects it: strict
    integers get an int when the text is one; the schema judges everything else."""
    if isinstance(field_, fields.Integer) and re.fullmatch(r"-?\d{1,18}", value):
        return int(value)
    return value


def query_arguments(route: Route, request: Request) -> dict[str, Any]:
    """The route's query parameters; a list-valued field takes the parameter repeated."""
    found: dict[str, Any] = {}
    declared = _fields(route)
    for name in route.query:
        if name not in request.args:
            continue
        field_ = declared.get(name)
        if isinstance(field_, fields.List):
            found[name] = [_from_text(field_.inner, v) for v in request.args.getlist(name)]
        else:
            found[name] = _from_text(field_, request.args[name])
    return found


def rpc_arguments(route: Route, identity: Identity, body: dict[str, Any],
                  path_args: dict[str, str], query: dict[str, Any],
                  if_match: int | None = None) -> dict[str, Any]:
    """Body + path + query + actor (+ If-Match's version), validated with the RPC's own
    contract schema."""
    if route.if_match and if_match is not None:
        if body.get(route.if_match, if_match) != if_match:
            raise field_problem(route.if_match, "if_match",
                                f"{route.if_match} and If-Match name different versions.")
        body = {**body, route.if_match: if_match}
    if "actor" in body:
        raise field_problem("actor", "not_settable",
                            "The caller's identity comes from the token, not the body.")
    for name in (*path_args, *route.query):
        if name in body:
            raise field_problem(name, "not_in_body",
                                f"{name} is given in the URL, not in the body.")
    declared = _fields(route)
    path_values = {k: _from_text(declared.get(k), v) for k, v in path_args.items()}
    args = {**body, **path_values, **query, "actor": identity.actor}
    if route.partner_scope and identity.is_partner:
        check_partner_scope(route, identity, args, in_path=route.partner_scope in path_args)
        args[route.partner_scope] = identity.partner_id  # a partner acts for itself only
    schema = route.args_schema
    if schema is not None:
        try:
            loaded = schema().load(args, unknown=RAISE)
        except ValidationError as exc:
            raise Problem(400, "Invalid request", "Some fields are not valid.",
                          errors_from_marshmallow(exc.messages)) from None
        except OverflowError:  # a time whose UTC form is before year 1 or after 9999
            raise field_problem(_overflowing(schema, args), "date_out_of_range",
                                "Give a date between the years "
                                f"{YEARS[0]} and {YEARS[1]}.") from None
        check_dates(loaded)
    return args




def _overflowing(schema: type[Schema], args: dict[str, Any]) -> str:
    """The argument whose loading overflowed (the first one, if several)."""
    for name, value in args.items():
        try:
            schema().load({name: value}, partial=True, unknown=RAISE)
        except OverflowError:
            return name
        except ValidationError:
            continue
    return "_body"


def check_dates(value: Any, where: str = "") -> None:
    problem = sanity.date_problem(value, where)
    if problem:
        raise field_problem(*problem)


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_key(value: str) -> str:
    """An `Idempotency-Key` header: 1 to 255 visible ASCII characters (a UUID will do)."""
    key = value.strip().strip('"')
    if not IDEMPOTENCY_KEY.match(key):
        raise field_problem("Idempotency-Key", "idempotency_key.invalid",
                            "Send 1 to 255 visible ASCII characters, for example a UUID.")
    return key


class Denied(Problem):
    """A refusal the gateway logs as a denial (who, what, why) before answering."""

    def __init__(self, status: int, title: str, reason: str, detail: str = "",
                 errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(status, title, detail, errors)
        self.reason = reason


def not_yours() -> Denied:
    # 404, not 403: another partner's resource must not even be seen to exist.
    title, detail = PARTNER_NOT_FOUND
    return Denied(404, title, "other_partner", detail)


def for_partner(problem: Problem) -> Problem:
    """What a partner sees of a problem: every 404 is the same body."""
    if problem.status != 404:
        return problem
    title, detail = PARTNER_NOT_FOUND
    return Problem(404, title, detail)


def check_partner_scope(route: Route, identity: Identity, args: dict[str, Any],
                        in_path: bool) -> None:
    """A partner names only itself: another's id in the URL is a 404, in the body a 403."""
    assert route.partner_scope
    given = args.get(route.partner_scope)
    if given is None or given == identity.partner_id:
        return
    if in_path:
        raise not_yours()
    raise Denied(403, "Forbidden", "other_partner", "A partner acts for itself only.",
                 [{"field": route.partner_scope, "rule": "partner_scope",
                   "message": "A partner may only give its own id."}])


def shape_result(route: Route, identity: Identity, result: Any) -> Any:
    """What the caller gets: a partner only its own resource, and only its view of it;
    a list (or none) wrapped as {items, count}."""
    if identity.is_partner:
        if route.owner and (not isinstance(result, dict)
                            or result.get(route.owner) != identity.partner_id):
            raise not_yours()
        if route.partner_view and isinstance(result, dict):
            result = {k: result.get(k) for k in route.partner_view}
    if route.items:
        items = [] if result is None else result if isinstance(result, list) else [result]
        return {"items": items, "count": len(items)}
    return result


# Rules that mean "someone changed it first" (a 409, not a 400).
CONFLICT_RULES = frozenset({"plan.version_conflict"})


def if_match_version(request: Request) -> int | None:
    """The version in `If-Match: "3"` (or W/"3"); None when absent or `*`."""
    value = request.headers.get("If-Match", "").strip()
    if not value or value == "*":
        return None
    text = value.removeprefix("W/").strip('"')
    if not re.fullmatch(r"\d{1,9}", text):
        raise field_problem("If-Match", "etag", 'If-Match takes an ETag like "3".')
    return int(text)


def problem_from_remote(exc_type: str, value: str) -> Problem:
    """Map a service's RPC error to an HTTP problem (never its traceback)."""
    try:
        errors = json.loads(value).get("errors", [])
    except (ValueError, AttributeError):
        errors = []
    if exc_type == "InvalidInput" and any(e.get("rule") in CONFLICT_RULES for e in errors):
        return Problem(409, "Conflict", "It changed since the version you based this on; "
                       "read it again and base your change on the current version.", errors)
    if exc_type == "InvalidInput":
        return Problem(400, "Invalid request", "The request breaks a rule.", errors)
    if exc_type == "NotFoundError":
        return Problem(404, "Not found", "", errors)
    if exc_type == "DuplicateRequest":
        return Problem(409, "Already carried out",
                       "A request with this Idempotency-Key was carried out before, but its "
                       "answer was lost; read the resource to see the result.",
                       [{"field": "Idempotency-Key", "rule": "idempotency_key.already_done",
                         "message": "Read the result instead of sending it again."}])
    if exc_type in ("MethodNotFound", "UnknownService"):
        return Problem(501, "Not available", "That operation is not available.")
    return Problem(502, "Upstream error", "A service failed to answer this request.")


def dispatch(request: Request) -> tuple[Route, dict[str, str]]:
    adapter = URL_MAP.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
    except MethodNotAllowed as exc:
        problem = Problem(405, "Method not allowed")
        problem.allow = sorted(exc.valid_methods or [])
        raise problem from None
    except (NotFound, RequestRedirect):
        # A redirect would be werkzeug's answer to a path that differs only in slashes;
        # the API redirects nothing: no such resource.
        raise Problem(404, "Not found", "No such resource.") from None
    return endpoint, {k: str(v) for k, v in args.items()}


