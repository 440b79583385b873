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
    hidden = {"actor", *path_params(route.path), *route.query}
    if route.partner_scope:
        hidden.add(route.partner_scope)
    body["properties"] = {k: v for k, v in body.get("properties", {}).items() if k not in hidden}
    body["required"] = [k for k in body.get("required", []) if k not in hidden]
    if not body["required"]:
        body.pop("required")
    return body


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower())}"
                       .strip("_"),
        "description": "Roles: " + ", ".join(sorted(r.value for r in route.roles)),
        "responses": {
            str(route.status): {"description": "OK",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
            **{code: {"description": text,
                      "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
               for code, text in ERRORS.items()},
        },
    }
    params = [{"name": p, "in": "path", "required": True,
               "schema": {"type": "string", "format": "uuid"} if p in route.uuid_params
               else {"type": "string"}} for p in path_params(route.path)]
    params += [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
               for q in route.query]
    if params:
        op["parameters"] = params
    body = _body_schema(route)
    if body is not None and route.method in ("POST", "PUT", "PATCH"):
        op["requestBody"] = {"required": True,
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
