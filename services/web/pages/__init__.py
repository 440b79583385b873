"""The web app's pages, one module per area; importing this package registers them all
(services.web.app.page). The main menu is here: one entry per area, shown to the roles
that work there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.actor import StaffRole


@dataclass(frozen=True)
class MenuItem:
    text: str
    href: str
    roles: frozenset[StaffRole] | None  # None: everyone signed in

    def current(self, ctx: Any) -> bool:
        path = ctx.request.path if ctx else ""
        return path == self.href or (self.href != "/" and path.startswith(self.href + "/"))


_MENU: list[tuple[int, MenuItem]] = [(0, MenuItem("Min arbejdsliste", "/", None))]


def menu_item(text: str, href: str, roles: set[StaffRole] | None, order: int = 50) -> None:
    """Put an area's page in the main menu (each pages module adds its own)."""
    _MENU.append((order, MenuItem(text, href, frozenset(roles) if roles else None)))


def menu(identity: Any) -> list[MenuItem]:
    return [m for _, m in sorted(_MENU, key=lambda pair: pair[0])
            if m.roles is None or identity.roles & m.roles]


from services.web.pages import about as about  # noqa: E402 - registers the pages
from services.web.pages import citizens as citizens  # noqa: E402
from services.web.pages import courses as courses  # noqa: E402
from services.web.pages import fronten as fronten  # noqa: E402
from services.web.pages import home as home  # noqa: E402
from services.web.pages import housing as housing  # noqa: E402
from services.web.pages import operator as operator  # noqa: E402
from services.web.pages import panel as panel  # noqa: E402
from services.web.pages import partner as partner  # noqa: E402
from services.web.pages import scheduling as scheduling  # noqa: E402 - and pathways
from services.web.pages import statistics as statistics  # noqa: E402
