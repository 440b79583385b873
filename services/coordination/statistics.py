"""Pathway statistics for any period: pure arithmetic over records read from storage.

The period is a range of Copenhagen days, both included: from the start of
`period_start` to the start of the day after `period_end` (the window). Definitions
(docs/coordination.md repeats them for the reader):

- **active pathways**: open at some moment in the window (opened before its end, and
  not closed before its start); `opened` and `closed`: opened or closed in the window.
- **referral to tovholder**: for each pathway opened from a Fronten referral whose first
  tovholder was appointed in the window, the days from the referral to that
  appointment (fractions of a day kept); the median and the mean, rounded to one
  decimal. `still_waiting`: referred pathways without a tovholder at the window's end
  (and not closed by then).
- **meetings held**: held meetings that started in the window.
- **plans agreed**: plan versions the citizen agreed to in the window.
- **continuity**: of the meetings held in the window, the share held "with the same
  tovholder": the tovholder of the day (the pathway's tovholder when the meeting
  started) was present, and was also the tovholder of the day at the pathway's
  previous held meeting (a pathway's first held meeting only needs its tovholder
  present). None when no meeting was held. `with_citizen_and_tovholder` counts the
  meetings where the citizen and the tovholder of the day were both present (the
  per-pathway figure of `get_pathway`).
- **tovholder changes**: handovers in the window; the first appointment is not a change.
"""

from __future__ import annotations

import datetime as dt
import statistics as pystats
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.common.errors import DomainError
from services.common.localtime import start_of_local_day
from services.coordination import texts

DAY_SECONDS = 86400


@dataclass(frozen=True)
class PathwayRecord:
    pathway_id: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    referred_at: dt.datetime | None  # None: opened by staff, not from a referral
    first_tovholder_at: dt.datetime | None
    under_30: bool | None


@dataclass(frozen=True)
class HeldMeeting:
    pathway_id: str
    meeting_id: str
    starts_at: dt.datetime
    tovholder_id: str | None  # the tovholder of the day (at the meeting's start)
    tovholder_present: bool
    citizen_present: bool


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime  # exclusive

    def __contains__(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def window(period_start: dt.date, period_end: dt.date) -> Window:
    """The UTC window of a period of Copenhagen days (both included)."""
    if period_end < period_start:
        raise DomainError("period_end", "statistics.period_reversed",
                          "The period ends before it starts.")
    return Window(start_of_local_day(period_start),
                  start_of_local_day(period_end + dt.timedelta(days=1)))


@dataclass(frozen=True)
class Waiting:
    appointed: int
    median_days: float | None
    mean_days: float | None
    still_waiting: int


@dataclass(frozen=True)
class Continuity:
    held_meetings: int
    same_tovholder: int
    share: float | None
    with_citizen_and_tovholder: int


@dataclass(frozen=True)
class PathwayReport:
    period_start: dt.date
    period_end: dt.date
    active_pathways: int
    active_under_30: int
    opened: int
    closed: int
    referral_to_tovholder: Waiting
    meetings_held: int
    plans_agreed: int
    continuity: Continuity
    tovholder_changes: int


def _days(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / DAY_SECONDS


def waiting_for_tovholder(pathways: Iterable[PathwayRecord], win: Window) -> Waiting:
    """Referral to first tovholder, for appointments in the window."""
    waits: list[float] = []
    still = 0
    for p in pathways:
        if p.referred_at is None:
            continue
        if p.first_tovholder_at in win:
            waits.append(max(0.0, _days(p.referred_at, p.first_tovholder_at)))  # type: ignore[arg-type]
        appointed_by_end = p.first_tovholder_at is not None and p.first_tovholder_at < win.end
        closed_by_end = p.closed_at is not None and p.closed_at < win.end
        if p.referred_at < win.end and not appointed_by_end and not closed_by_end:
            still += 1
    return Waiting(
        appointed=len(waits),
        median_days=round(pystats.median(waits), 1) if waits else None,
        mean_days=round(pystats.fmean(waits), 1) if waits else None,
        still_waiting=still,
    )


def continuity(meetings: Iterable[HeldMeeting], win: Window) -> Continuity:
    """The continuity of the meetings held in the window (see the module docstring).

    `meetings` must include each pathway's held meetings before the window too: the
    first meeting in the window is compared with the one before it."""
    by_pathway: dict[str, list[HeldMeeting]] = defaultdict(list)
    for meeting in meetings:
        by_pathway[meeting.pathway_id].append(meeting)
    held = same = together = 0
    for pathway_meetings in by_pathway.values():
        previous: HeldMeeting | None = None
        for meeting in sorted(pathway_meetings, key=lambda m: (m.starts_at, m.meeting_id)):
            if meeting.starts_at in win:
                held += 1
                present = meeting.tovholder_present and meeting.tovholder_id is not None
                if present and (previous is None
                                or previous.tovholder_id == meeting.tovholder_id):
                    same += 1
                if meeting.citizen_present and present:
                    together += 1
            previous = meeting
    return Continuity(held_meetings=held, same_tovholder=same,
                      share=round(same / held, 4) if held else None,
                      with_citizen_and_tovholder=together)


def report(
    period_start: dt.date,
    period_end: dt.date,
    *,
    pathways: Sequence[PathwayRecord],
    meetings: Sequence[HeldMeeting],
    agreements: Iterable[dt.datetime],
    handovers: Iterable[dt.datetime],
) -> PathwayReport:
    """The figures of the period from the records (records outside it are ignored)."""
    win = window(period_start, period_end)
    active = [p for p in pathways
              if p.opened_at < win.end and (p.closed_at is None or p.closed_at >= win.start)]
    return PathwayReport(
        period_start=period_start,
        period_end=period_end,
        active_pathways=len(active),
        active_under_30=sum(1 for p in active if p.under_30),
        opened=sum(1 for p in pathways if p.opened_at in win),
        closed=sum(1 for p in pathways if p.closed_at in win),
        referral_to_tovholder=waiting_for_tovholder(pathways, win),
        meetings_held=sum(1 for m in meetings if m.starts_at in win),
        plans_agreed=sum(1 for at in agreements if at in win),
        continuity=continuity(meetings, win),
        tovholder_changes=sum(1 for at in handovers if at in win),
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)} %"


def _days_figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}".replace(".", ",") + " dage"


def render_danish(r: PathwayReport) -> str:
    """The report as a few lines of Danish, for a leader's mail or the screen."""
    w = r.referral_to_tovholder
    c = r.continuity
    return "\n".join([
        f"Sammenhængende borgerforløb {texts.date_text(r.period_start)} til "
        f"{texts.date_text(r.period_end)}",
        f"Aktive forløb: {r.active_pathways} (heraf {r.active_under_30} for borgere under 30 år)",
        f"Nye forløb: {r.opened}. Afsluttede forløb: {r.closed}.",
        f"Fra henvisning til tovholder: median {_days_figure(w.median_days)}, gennemsnit "
        f"{_days_figure(w.mean_days)} ({w.appointed} tovholdere udpeget; "
        f"{w.still_waiting} venter ved periodens slutning)",
        f"Afholdte møder: {r.meetings_held}. Godkendte handleplaner: {r.plans_agreed}.",
        f"Kontinuitet: {_share(c.share)} af møderne blev holdt med den samme tovholder "
        f"({c.same_tovholder} af {c.held_meetings})",
        f"Tovholderskift: {r.tovholder_changes}",
    ])
