"""Fronten's statistics: the seed-001 report for any period, with bar charts (each with
its numbers in a table) and a CSV export. The numbers are intake's `statistics` RPC, the
same as the API's `/api/statistics` and `samspil statistics`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from werkzeug.wrappers import Response

from contracts.actor import StaffRole
from services.web import danish
from services.web.app import RpcProblem, WebContext, page
from services.web.pages import menu_item

READERS = {StaffRole.FRONTEN, StaffRole.OPERATOR}
menu_item("Statistik", "/statistik", READERS, order=80)

BREAKDOWNS = (  # (report key, heading, label kind or None)
    ("by_channel", "Henvendelser efter kontaktform", "channel"),
    ("by_inquirer_kind", "Henvendelser efter hvem der henvendte sig", "inquirer_kind"),
    ("by_topic", "Henvendelser efter emne", "topic"),
    ("by_outcome", "Henvendelser efter udfald", "outcome"),
    ("by_age_band", "Henvendelser efter alder", None),
    ("by_under_30", "Unge under 30", "under_30"),
    ("active_courses_by_kind", "Aktive forløb efter type", "course_kind"),
)
danish.add_labels("under_30", {"true": "Under 30 år", "false": "30 år og derover",
                               "unknown": "Alder ukendt", "True": "Under 30 år",
                               "False": "30 år og derover"})


def _period(ctx: WebContext) -> tuple[dt.date, dt.date, dict[str, str]]:
    """The period asked for (fra, til), or the last four months; errors by field."""
    today = ctx.now.date()
    errors: dict[str, str] = {}
    parsed: dict[str, dt.date] = {}
    defaults = {"fra": today.replace(day=1) - dt.timedelta(days=92), "til": today}
    for name in ("fra", "til"):
        text = ctx.request.args.get(name, "").strip()
        if not text:
            parsed[name] = defaults[name]
            continue
        try:
            parsed[name] = dt.date.fromisoformat(text)
        except ValueError:
            errors[name] = "Angiv en dato som ÅÅÅÅ-MM-DD."
            parsed[name] = defaults[name]
    return parsed["fra"], parsed["til"], errors


def _rows(report: dict[str, Any], key: str, kind: str | None) -> list[dict[str, Any]]:
    counts = report.get(key) or {}
    total = sum(counts.values()) or 1
    biggest = max(counts.values(), default=0) or 1
    return [{"label": danish.label(kind, code) if kind else str(code), "count": n,
             "share": round(100 * n / total), "bar": round(200 * n / biggest)}
            for code, n in counts.items()]


def _report(ctx: WebContext, start: dt.date, end: dt.date) -> dict[str, Any]:
    return dict(ctx.call("intake", "statistics", period_start=start.isoformat(),
                         period_end=end.isoformat()))


@page("/statistik", roles=READERS)
def statistics_page(ctx: WebContext) -> Response:
    start, end, errors = _period(ctx)
    report: dict[str, Any] | None = None
    if not errors:
        try:
            report = _report(ctx, start, end)
        except RpcProblem as problem:
            if problem.status != 400:
                raise
            errors = {"til" if "period_end" in f else "fra": m
                      for f, m in problem.by_field().items()}
    tables = [] if report is None else [
        {"key": key, "heading": heading, "rows": _rows(report, key, kind)}
        for key, heading, kind in BREAKDOWNS]
    return ctx.render("statistik/report.html", start=start, end=end, errors=errors,
                      report=report, tables=tables,
                      status=400 if errors else 200)


@page("/statistik.csv", roles=READERS)
def statistics_csv(ctx: WebContext) -> Response:
    start, end, errors = _period(ctx)
    if errors:
        return ctx.render("error.html", status=400, title="Perioden er ugyldig",
                          text="Angiv datoer som ÅÅÅÅ-MM-DD.")
    report = _report(ctx, start, end)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")  # Danish spreadsheets expect semicolons
    writer.writerow(["opgørelse", "kategori", "antal"])
    writer.writerow(["henvendelser i alt", "", report["total_inquiries"]])
    writer.writerow(["§ 82 b-forløb startet", "", report["courses_82b_started"]])
    writer.writerow(["heraf henvist til § 85", "", report["courses_82b_referred_85"]])
    writer.writerow(["aktive forløb", "", report["active_courses"]])
    for key, heading, kind in BREAKDOWNS:
        for row in _rows(report, key, kind):
            writer.writerow([heading, row["label"], row["count"]])
    name = f"fronten-statistik-{start.isoformat()}-{end.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
