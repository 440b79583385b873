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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from contracts import registry
from services.common.rpc import errors_from_marshmallow
from services.gateway.auth import STAFF, Identity, Role

PROBLEM_JSON = "application/problem+json"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
# A CPR number (DDMMYY-SSSS or ten digits) must never travel in a URL: URLs end up in logs.
CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


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

    def response(self, instance: str = "") -> Response:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        return Response(json.dumps(body, ensure_ascii=False), status=self.status,
                        content_type=PROBLEM_JSON)


def field_problem(field_name: str, rule: str, message: str, status: int = 400) -> Problem:
    return Problem(status, "Invalid request", message,
                   [{"field": field_name, "rule": rule, "message": message}])


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # werkzeug rule; path parameters are plain <name>
    roles: frozenset[Role]
    summary: str
    service: str | None = None  # RPC target service
    rpc: str | None = None  # RPC method
    status: int = 200
    uuid_params: tuple[str, ...] = ()  # path parameters that must be UUIDs
    partner_scope: str | None = None  # argument forced to the partner's own id
    local: str | None = None  # name of a gateway method handling it without RPC
    tag: str = "api"
    query: tuple[str, ...] = ()  # query parameters passed on as arguments

    @property
    def args_schema(self) -> type[Schema] | None:
        if self.service and self.rpc:
            return registry.rpc_contract(self.service, self.rpc).args
        return None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class RouteTable:
    routes: list[Route] = field(default_factory=list)

    def add(self, route: Route) -> None:
        self.routes.append(route)

    def url_map(self) -> Map:
        return Map(
            [Rule(r.path, methods=[r.method], endpoint=r.endpoint) for r in self.routes],
            strict_slashes=False,
        )

    def by_endpoint(self) -> dict[str, Route]:
        return {r.endpoint: r for r in self.routes}


ALL = frozenset(Role)
OPERATOR = frozenset({Role.OPERATOR})

# The routes that exist today. Each service issue adds its resources here as its RPC
# methods land; OpenAPI and the route test follow automatically.
ROUTES = RouteTable(
    [
        Route("GET", "/health", ALL, "The gateway process is up.", local="health", tag="ops"),
        Route("GET", "/ready", ALL, "Broker and database reachable.", local="ready", tag="ops"),
        Route("POST", "/api/inquiries", frozenset({Role.FRONTEN}),
              "Register an inquiry (henvendelse) at Fronten.",
              service="intake", rpc="register_inquiry", status=201, tag="intake"),
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

PUBLIC_ENDPOINTS = {"GET /health", "GET /ready"}


def allowed(route: Route, identity: Identity | None) -> bool:
    return route.endpoint in PUBLIC_ENDPOINTS or (
        identity is not None and identity.role in route.roles
    )


def check_url(request: Request) -> None:
    for name, value in [("path", request.path), *request.args.items(multi=True)]:
        if CPR_LIKE.search(value):
            raise field_problem(name, "cpr_in_url",
                                "A CPR number must never be sent in a URL; send it in the body.")


def read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    """The JSON object in the body ({} when there is none)."""
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
    except (ValueError, UnicodeDecodeError) as exc:
        raise field_problem("_body", "json", f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise field_problem("_body", "json_object", "The body must be a JSON object.")
    return body


def check_path(route: Route, path_args: dict[str, str]) -> None:
    """Malformed ids are a 400 naming the parameter, not a 404 or a 500."""
    for name in route.uuid_params:
        if not UUID_RE.match(path_args.get(name, "")):
            raise field_problem(name, "uuid", f"{name} must be a UUID.")


def rpc_arguments(route: Route, identity: Identity, body: dict[str, Any],
                  path_args: dict[str, str], query: dict[str, str]) -> dict[str, Any]:
    """Body + path + query + actor, validated with the RPC's own contract schema."""
    if "actor" in body:
        raise field_problem("actor", "not_settable",
                            "The caller's identity comes from the token, not the body.")
    args = {**body, **path_args, **query, "actor": identity.actor}
    if route.partner_scope and identity.role is Role.PARTNER:
        args[route.partner_scope] = identity.partner_id  # a partner sees only its own
    schema = route.args_schema
    if schema is not None:
        try:
            schema().load(args, unknown=RAISE)
        except ValidationError as exc:
            raise Problem(400, "Invalid request", "Some fields are not valid.",
                          errors_from_marshmallow(exc.messages)) from None
    return args


def problem_from_remote(exc_type: str, value: str) -> Problem:
    """Map a service's RPC error to an HTTP problem (never its traceback)."""
    try:
        errors = json.loads(value).get("errors", [])
    except (ValueError, AttributeError):
        errors = []
    if exc_type == "InvalidInput":
        return Problem(400, "Invalid request", "The request breaks a rule.", errors)
    if exc_type == "NotFoundError":
        return Problem(404, "Not found", "", errors)
    if exc_type in ("MethodNotFound", "UnknownService"):
        return Problem(501, "Not available", "That operation is not available.")
    return Problem(502, "Upstream error", "A service failed to answer this request.")


def dispatch(
    request: Request, url_map: Map
) -> tuple[Route, dict[str, str]]:
    adapter = url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
    except MethodNotAllowed:
        raise Problem(405, "Method not allowed") from None
    except NotFound:
        raise Problem(404, "Not found", "No such resource.") from None
    return ROUTES.by_endpoint()[str(endpoint)], {k: str(v) for k, v in args.items()}


Handler = Callable[..., Any]
STAFF_ROLES = STAFF
