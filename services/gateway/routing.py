"""The route table's building blocks: a route, the role sets, and `rpc_route`.

Each service's routes live in `services/gateway/routes/<service>.py`; `api.ROUTES`
puts them together. One table drives dispatch, validation and OpenAPI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from werkzeug.routing import Map, Rule

from contracts import registry
from services.gateway.auth import Role


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
    # For partner callers: the result field that must equal the partner's own id
    # (checked before answering; another partner's resource is a 404, logged).
    owner: str | None = None
    # For partner callers: the only result fields they are shown (empty: all).
    partner_view: tuple[str, ...] = ()
    items: bool = False  # the RPC answers a list (or None): wrap it as {items, count}
    # The answer's schema for OpenAPI (default: the RPC contract's `result`), and what a
    # partner is answered where it differs (its view of the resource).
    result: type[Schema] | None = None
    partner_result: type[Schema] | None = None
    # Optimistic concurrency over HTTP: `If-Match: "<n>"` becomes this argument (the
    # version the change is based on), and the answer's `etag` field becomes its ETag.
    if_match: str | None = None
    etag: str | None = None

    @property
    def result_schema(self) -> type[Schema] | None:
        if self.result is not None:
            return self.result
        if self.service and self.rpc:
            return registry.rpc_contract(self.service, self.rpc).result
        return None

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

    def url_map(self) -> Map:
        """werkzeug's map; each rule's endpoint is the (frozen, hashable) Route itself.
        Slashes are not merged: `/api/citizens//access-report` names no citizen and is
        a 404, where merging would answer with a redirect (which the API has none of)."""
        return Map(
            [Rule(r.path, methods=[r.method], endpoint=r) for r in self.routes],
            strict_slashes=False, merge_slashes=False,
        )


ALL = frozenset(Role)
OPERATOR = frozenset({Role.OPERATOR})
FRONTEN = frozenset({Role.FRONTEN})
TOVHOLDER = frozenset({Role.TOVHOLDER})
# Coordinators take referrals in and appoint tovholdere; Fronten refers and opens too.
COORDINATORS = frozenset({Role.TOVHOLDER, Role.FRONTEN, Role.COORDINATOR})
COORDINATOR = frozenset({Role.COORDINATOR})
REVIEW_PANEL = frozenset({Role.REVIEW_PANEL, Role.FRONTEN})
SOCIAL_VEJLEDNING = frozenset({Role.SOCIAL_VEJLEDNING})
HOUSING_OFFICER = frozenset({Role.HOUSING_OFFICER})
HOUSING_STAFF = frozenset({Role.FRONTEN, Role.TOVHOLDER, Role.HOUSING_OFFICER})
REPORTERS = frozenset({Role.FRONTEN, Role.PARTNER})
CASE_READERS = frozenset({Role.FRONTEN, Role.TOVHOLDER, Role.HOUSING_OFFICER, Role.PARTNER})
STATISTICS = frozenset({Role.OPERATOR, Role.FRONTEN})
ASSOCIATION_REPORT = frozenset({Role.OPERATOR, Role.FRONTEN, Role.PARTNER})

# Path parameters named *_id that are not UUIDs (staff ids, partner ids, row numbers).
NON_UUID_PARAMS = frozenset({"member_id", "participant_id", "association_id", "action_id",
                             "rule_id", "subscription_id", "delivery_id"})


def rpc_route(method: str, path: str, roles: frozenset[Role], service: str, rpc: str,
              summary: str | None = None, **options: Any) -> Route:
    """A route forwarding to an RPC; its summary defaults to the contract's."""
    text = summary or registry.rpc_contract(service, rpc).summary
    uuid_params = tuple(name for name in re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", path)
                        if name.endswith(("_id", "_ref")) and name not in NON_UUID_PARAMS)
    options.setdefault("uuid_params", uuid_params)
    options.setdefault("tag", service)
    return Route(method, path, roles, text, service=service, rpc=rpc, **options)
