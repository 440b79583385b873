"""Home is the signed-in person's worklist: every list their roles work from, the most
urgent items first, each saying why it is there and by when."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from services.web import worklists
from services.web.app import RpcProblem, WebContext, page

HOME_ITEMS = 5
PAGE_ITEMS = 25


def _page_of(ctx: WebContext, wl: worklists.Worklist, limit: int,
             cursor: str | None = None) -> dict[str, Any]:
    """One page of a list, or the reason it cannot be shown now."""
    args: dict[str, Any] = {"limit": limit}
    if cursor:
        args["cursor"] = cursor
    try:
        result = ctx.call(wl.service, wl.rpc, **args)
    except RpcProblem as problem:
        message = ("Listen kan ikke hentes lige nu. Prøv igen om lidt."
                   if problem.status >= 500 else "Listen kunne ikke vises.")
        return {"items": [], "next_cursor": None, "problem": message}
    return {"items": result.get("items", []), "next_cursor": result.get("next_cursor"),
            "problem": None}


@page("/")
def home(ctx: WebContext) -> Response:
    sections = [(wl, _page_of(ctx, wl, HOME_ITEMS)) for wl in worklists.visible(ctx.identity)]
    return ctx.render("home.html", sections=sections, link_of=worklists.link_of)


@page("/arbejdsliste/<key>")
def worklist(ctx: WebContext) -> Response:
    wl = worklists.by_key().get(ctx.args["key"])
    if wl is None or not wl.visible_to(ctx.identity):
        return ctx.render("error.html", status=404, title="Listen findes ikke",
                          text="Gå til din arbejdsliste for at se dine lister.")
    result = _page_of(ctx, wl, PAGE_ITEMS, ctx.request.args.get("cursor"))
    return ctx.render("worklist.html", wl=wl, result=result, link_of=worklists.link_of,
                      fragment="rows")
