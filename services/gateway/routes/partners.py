"""partners' routes: the directory of partners and offers, and hand-offs with answers."""

from __future__ import annotations

from services.gateway.routing import Route

ROUTES: list[Route] = []
