"""OpenAPI 3.1 for the gateway, generated from the route table and the contract
schemas (the same marshmallow schemas the services validate with)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from apispec import APISpec

from contracts.generate import schema_to_json
from services.gateway.api import PUBLIC_ENDPOINTS, ROUTES, Route

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "rule", "message"],
            "properties": {"field": {"type": "string"}, "rule": {"type": "string"},
                           "message": {"type": "string"}}}},
    },
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
ERRORS = {
    "400": "Invalid input: every bad field is named.",
    "401": "No or unknown token.",
    "403": "The token's role may not do this.",
    "404": "No such resource.",
    "413": "Body too large.",
    "415": "Body is not JSON.",
    "503": "A service or the broker is unavailable.",
    "504": "A service did not answer in time.",
}


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_ERRORS = {
    "409": "A conflict: the first request with this Idempotency-Key is still under way "
           "(or, where the route says so, someone changed the resource first).",
    "422": "This Idempotency-Key was sent before with another body.",
}

# The routes a browser follows through sign-in (services.gateway.signin).
SIGN_IN = frozenset({"auth_login", "auth_callback", "auth_logout"})


def openapi_path(path: str) -> str:
    """werkzeug's <name> to OpenAPI's {name}."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", path)


def path_params(path: str) -> list[str]:
    return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", path)


def _body_schema(route: Route) -> dict[str, Any] | None:
    schema = route.args_schema
    if schema is None:
        return None
    body = schema_to_json(schema)
    # actor comes from the token; path and query values from the URL. A partner-scoped
    # field stays: staff may give it, and for a partner it is forced to its own id.
    hidden = {"actor", *path_params(route.path), *route.query}
    body["properties"] = {k: v for k, v in body.get("properties", {}).items() if k not in hidden}
    body["required"] = [k for k in body.get("required", []) if k not in hidden]
    if not body["required"]:
        body.pop("required")
    return body


def _parameter_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A contract property as a URL parameter: text in a URL is never null."""
    out = {k: v for k, v in schema.items() if k != "default"}
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        out["type"] = types[0] if len(types) == 1 else types
    if "enum" in out:
        out["enum"] = [v for v in out["enum"] if v is not None]
    return out


def _parameters(route: Route) -> list[dict[str, Any]]:
    contract = schema_to_json(route.args_schema) if route.args_schema is not None else {}
    props = contract.get("properties", {})
    required = set(contract.get("required", []))
    params: list[dict[str, Any]] = []
    for name in path_params(route.path):
        if name in props:
            schema = _parameter_schema(props[name])
        elif name in route.uuid_params:
            schema = {"type": "string", "format": "uuid"}
        else:
            schema = {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for name in route.query:
        schema = _parameter_schema(props[name]) if name in props else {"type": "string"}
        param = {"name": name, "in": "query", "required": name in required, "schema": schema}
        if schema.get("type") == "array":
            param.update(style="form", explode=True)  # ?kind=a&kind=b
        params.append(param)
    return params


def _description(route: Route) -> str:
    text = "Roles: " + ", ".join(sorted(r.value for r in route.roles)) + "."
    if route.partner_scope:
        text += (f" A partner acts for itself only: `{route.partner_scope}` is always its own "
                 "id (another's id in the URL is a 404, in the body a 403).")
    if route.owner:
        text += " A partner sees only its own resources; another partner's is a 404."
    return text


def _result(route: Route) -> dict[str, Any]:
    """The success answer's schema: the contract's result (a partner's own view where it
    differs), a list wrapped as {items, count}; a bare object only where no contract
    declares one yet."""
    staff = route.result_schema
    schemas = []
    if staff is not None:
        schemas.append(schema_to_json(staff))
    if route.partner_result is not None:
        schemas.append(schema_to_json(route.partner_result))
    if not schemas:
        body: dict[str, Any] = {"type": "object"}
    elif len(schemas) == 1:
        body = schemas[0]
    else:
        body = {"oneOf": schemas}
    if route.items:
        return {"type": "object", "required": ["items", "count"], "additionalProperties": False,
                "properties": {"items": {"type": "array", "items": body},
                               "count": {"type": "integer", "minimum": 0}}}
    return body


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower())}"
                       .strip("_"),
        "description": _description(route),
        "responses": {
            str(route.status): {"description": "A redirect (a browser follows it)."}
            if route.status in (302, 303) else
            {"description": "OK", "content": {"application/json": {"schema": _result(route)}}},
            **{code: {"description": text,
                      "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
               for code, text in ERRORS.items()},
            # Sign-in talks to a browser: a failed sign-in is a page, not a problem body.
            **({"400": {"description": "The sign-in failed or expired (a page for the "
                                       "browser, or a problem body).",
                        "content": {"application/problem+json": {"schema": PROBLEM_REF},
                                    "text/html": {"schema": {"type": "string"}}}}}
               if route.local in SIGN_IN else {}),
            # Answered by the web server before the gateway sees the request: no body.
            "414": {"description": "The URL is too long: the web server takes a request "
                                   "line of at most 8 KiB. Send less in the query."},
        },
    }
    params = _parameters(route)
    if route.method in STATE_CHANGING and not route.local:
        # Retrying safely (docs/api.md, "Conventions"): the first answer is replayed.
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "Send the same key to retry without doing the work "
                                      "twice; kept 24 hours per caller and route.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                  "pattern": "^[!-~]+$"}})
        op["responses"].update({
            code: {"description": text,
                   "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
            for code, text in IDEMPOTENCY_ERRORS.items()
            if code not in op["responses"]})
    if params:
        op["parameters"] = params
    body = _body_schema(route)
    if body is not None and route.method in ("POST", "PUT", "PATCH"):
        op["requestBody"] = {"required": bool(body.get("required")),
                             "content": {"application/json": {"schema": body}}}
    if route.endpoint in PUBLIC_ENDPOINTS:
        op["security"] = []
    return op


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    spec = APISpec(
        title="Samspil API",
        version="1.0.0",
        openapi_version="3.1.0",
        info={"description": "Fronten, pathways and housing cases over HTTP. Every error is "
                             "an RFC 9457 problem body naming the offending fields."},
    )
    spec.components.schema("Problem", PROBLEM)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES.routes:
        paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = _operation(route)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    doc["security"] = [{"bearer": []}]
    return doc


def html_page() -> str:
    """A plain page for people: every operation, who may call it, what it takes."""
    rows = []
    for route in ROUTES.routes:
        body = _body_schema(route)
        fields = ", ".join(sorted((body or {}).get("properties", {}))) or "–"
        rows.append(
            f"<tr><td><code>{route.method}</code></td><td><code>"
            f"{html.escape(openapi_path(route.path))}</code></td><td>{html.escape(route.summary)}"
            f"</td><td>{', '.join(sorted(r.value for r in route.roles))}</td>"
            f"<td>{html.escape(fields)}</td></tr>"
        )
    return (
        "<!doctype html><html lang='da'><head><meta charset='utf-8'><title>Samspil API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .6em;"
        "border-bottom:1px solid #ddd;text-align:left}</style></head><body>"
        "<h1>Samspil API</h1><p>Machine-readable: <a href='/api/openapi.json'>"
        "/api/openapi.json</a> (OpenAPI 3.1). Authenticate with "
        "<code>Authorization: Bearer &lt;token&gt;</code>.</p><table><tr><th>Method</th>"
        "<th>Path</th><th>What</th><th>Roles</th><th>Body fields</th></tr>"
        + "".join(rows) + "</table></body></html>"
    )
