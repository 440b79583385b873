"""The worklists the web app shows, in one table: who sees each, which RPC answers it,
and what a person reads when it is empty. Home is the signed-in person's own lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.actor import StaffRole

R = StaffRole


@dataclass(frozen=True)
class Worklist:
    key: str  # the list's address: /arbejdsliste/<key>
    title: str
    roles: frozenset[StaffRole]
    service: str
    rpc: str
    empty: str
    intro: str = ""

    def visible_to(self, identity: Any) -> bool:
        return bool(identity.roles & self.roles)


def _w(key: str, title: str, roles: set[StaffRole], service: str, rpc: str, empty: str,
       intro: str = "") -> Worklist:
    return Worklist(key, title, frozenset(roles), service, rpc, empty, intro)


_WORKLISTS: list[Worklist] = [
    _w("henvendelser", "Åbne henvendelser", {R.FRONTEN}, "intake", "worklist_open_inquiries",
       "Der er ingen åbne henvendelser.", "Ældste først."),
    _w("opfoelgninger", "Opfølgning på forløb", {R.FRONTEN}, "intake", "worklist_follow_ups",
       "Ingen forløb venter på opfølgning."),
    _w("brobygning", "Brobygning", {R.FRONTEN}, "intake", "worklist_bridging",
       "Ingen forløb skal bygge bro lige nu."),
    _w("afslutning-foreslaaet", "Forslag om afslutning (4-ugersreglen)", {R.FRONTEN}, "intake",
       "worklist_ending_proposed", "Ingen forslag venter på en beslutning.",
       "Borgeren har ikke overholdt aftaler i 4 uger. En medarbejder beslutter."),
    _w("slut-overskredet", "Forløb over planlagt slut", {R.FRONTEN}, "intake",
       "worklist_end_overdue", "Ingen forløb er over deres planlagte slut."),
    _w("uden-for-maalgruppen", "Uden for målgruppen", {R.FRONTEN}, "intake",
       "worklist_outside_target_group", "Ingen sager venter på en vurdering af målgruppen."),
    _w("samtykker-der-skal-rettes", "Samtykker der skal rettes", {R.FRONTEN}, "intake",
       "worklist_consents_to_correct", "Ingen samtykker skal rettes."),
    _w("udvalgets-dagsorden", "Tværgående udvalgs dagsorden", {R.REVIEW_PANEL}, "intake",
       "worklist_review_agenda", "Ingen forløb venter på udvalget."),
    _w("henvisninger-85", "Henvisninger til § 85", {R.SOCIAL_VEJLEDNING}, "intake",
       "worklist_referrals_85", "Ingen henvisninger venter på en afgørelse."),
    _w("mangler-tovholder", "Borgerforløb uden tovholder", {R.COORDINATOR}, "coordination",
       "awaiting_tovholder", "Alle borgerforløb har en tovholder.", "Unge under 30 først."),
    _w("mine-forloeb", "Mine borgerforløb", {R.TOVHOLDER}, "coordination", "my_pathways",
       "Du er ikke med i noget borgerforløb endnu."),
    _w("mine-moeder", "Mine næste møder", {R.TOVHOLDER}, "coordination", "my_meetings",
       "Du har ingen kommende møder."),
    _w("mine-handlinger", "Handlinger med frist", {R.TOVHOLDER}, "coordination", "my_actions",
       "Ingen handlinger har frist nu."),
    _w("boligvarsler", "Boligvarsler om mine borgere", {R.TOVHOLDER}, "coordination",
       "my_housing_alerts", "Ingen varsler om huslejerestancer."),
    _w("boligsager", "Huslejesager", {R.HOUSING_OFFICER}, "housing", "case_worklist",
       "Ingen åbne huslejesager.", "Sager, hvor hjælpen ville komme efter påkravsfristen, "
       "står først."),
]


def register_worklist(key: str, title: str, roles: set[StaffRole], service: str, rpc: str,
                      empty: str, intro: str = "", after: str | None = None) -> None:
    """An area's own list on home (placed after the list `after`, or last)."""
    wl = _w(key, title, roles, service, rpc, empty, intro)
    if key in by_key():
        raise ValueError(f"worklist {key!r} is registered twice")
    keys = [w.key for w in _WORKLISTS]
    _WORKLISTS.insert(keys.index(after) + 1 if after in keys else len(_WORKLISTS), wl)


def by_key() -> dict[str, Worklist]:
    return {w.key: w for w in _WORKLISTS}


def visible(identity: Any) -> list[Worklist]:
    return [w for w in _WORKLISTS if w.visible_to(identity)]


# Where an item leads, by its subject type (pages that exist; others are not links).
SUBJECT_PAGES: dict[str, str] = {}


def subject_page(subject_type: str, pattern: str) -> None:
    """Say where items of a subject type lead (each pages module says its own), e.g.
    `subject_page("course", "/forloeb/{subject_id}")`; the pattern takes item fields."""
    SUBJECT_PAGES[subject_type] = pattern


def link_of(item: dict[str, Any]) -> str | None:
    pattern = SUBJECT_PAGES.get(str(item.get("subject_type")))
    return pattern.format(**item) if pattern else None
