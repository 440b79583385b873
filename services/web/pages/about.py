"""Pages about the app itself: the accessibility statement (required of municipalities by
the Danish web accessibility act), open to everyone."""

from __future__ import annotations

from werkzeug.wrappers import Response

from services.web.app import WebContext, page


@page("/tilgaengelighed", public=True)
def accessibility_statement(ctx: WebContext) -> Response:
    return ctx.render("tilgaengelighed.html")
