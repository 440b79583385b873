"""The main screens of each role, as docs/ui.md and the README show them.

With SAMSPIL_SCREENSHOTS=1 each screen is saved to docs/screenshots/<name>.png (the
clock starts at the fixtures' Monday 2 March 2026, so the dates in the pictures stay the
same from run to run); without it, each screen is still visited, must answer without an
error, shows its heading and passes axe.

    SAMSPIL_BROWSER_TESTS=1 SAMSPIL_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py

Besides the named screens below, every page in each person's menu and the first subject
page of each list on their home are taken too (`<login>-<page>.png`), so the other areas'
screens are in the set as they are added.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ROOT, Staff
from tests.browser.test_every_page import populate

SAVE = os.environ.get("SAMSPIL_SCREENSHOTS") == "1"
OUT = Path(os.environ.get("SAMSPIL_SCREENSHOTS_DIR") or ROOT / "docs" / "screenshots")
VIEWPORT = {"width": 1280, "height": 900}


def named_screens(ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(file name, who, address) of the screens docs/ui.md describes by name."""
    return [
        ("arbejdsliste-fronten", "anne", "/"),
        ("henvendelse-ny", "anne", "/henvendelser/ny"),
        ("henvendelse", "anne", f"/henvendelser/{ids['inquiry']}"),
        ("borgere", "anne", "/borgere"),
        ("statistik", "anne", "/statistik"),
        ("forloeb", "anne", f"/forloeb/{ids['course']}"),
        ("udvalgets-dagsorden", "peter", "/udvalg"),
        ("henvisninger-85", "sofie", "/social-vejledning"),
        ("arbejdsliste-tovholder", "mette", "/"),
        ("mine-borgerforloeb", "mette", "/borgerforloeb"),
        ("borgerforloeb", "mette", f"/borgerforloeb/{ids['pathway']}"),
        ("moeder", "mette", f"/borgerforloeb/{ids['pathway']}/moeder"),
        ("handleplan", "mette", f"/borgerforloeb/{ids['pathway']}/handleplan"),
        ("tidslinje", "mette", f"/borgerforloeb/{ids['pathway']}/tidslinje"),
        ("arbejdsliste-koordinator", "karin", "/"),
        ("borgerforloeb-uden-tovholder", "karin", f"/borgerforloeb/{ids['waiting_pathway']}"),
        ("arbejdsliste-boligsocial", "bo", "/"),
        ("boligsager", "bo", "/boligsager"),
        ("boligsag", "bo", f"/boligsager/{ids['case']}"),
        ("boligsag-tovholder", "mette", f"/boligsager/{ids['case']}"),
        ("arbejdsliste-boligforening", "kab", "/"),
        ("anmodning-boligforening", "kab", f"/overdragelser/{ids['hold_request']}"),
        ("huslejesager-boligforening", "kab", "/partner/sager"),
        ("huslejesag-boligforening", "kab", f"/partner/sager/{ids['case']}"),
        ("anmodninger-jobcenter", "jobcenter", "/partner/anmodninger"),
        ("anmodning-jobcenter", "jobcenter", f"/overdragelser/{ids['referral']}"),
        ("drift", "ole", "/drift"),
        ("drift-partnere", "ole", "/drift/partnere"),
        ("drift-ny-partner", "ole", "/drift/partnere/ny"),
    ]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def screen_of(address: str) -> str:
    """Which screen an address shows, as a file name part: its words, a subject's id
    as `side` (/borgerforloeb/<id>/handleplan -> borgerforloeb-side-handleplan)."""
    words = ["side" if UUID.fullmatch(w) else w
             for w in re.split(r"[/?=&]+", address.split("#")[0]) if w]
    return "-".join(words) or "forside"


def more_screens(person: Staff, login: str, taken: set[str]) -> list[tuple[str, str]]:
    """Each menu page of the person and the first subject page of each list on their
    home whose screen nobody has shown yet (`taken`: screen_of): (file name, address)."""
    page = person.page
    person.goto("/")
    menu = page.locator("nav[aria-label='Hovedmenu'] a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    firsts = page.locator("main section").evaluate_all(
        "sections => sections.map(s => { const a = s.querySelector('tbody a[href]');"
        " return a ? a.getAttribute('href') : null; })")
    found = []
    for link in [*menu, *(f for f in firsts if f)]:
        address, screen = link.split("#")[0], screen_of(link)
        if screen in taken or address == "/" or address.startswith(("/api", "/auth")):
            continue
        taken.add(screen)
        found.append((f"{login}-{screen}", address))
    return found


def shoot(person: Staff, name: str, address: str, shown: set[str]) -> bool:
    """Visit and check the screen; save it unless it led (redirected) to an address
    this person has shown already. Whether it was new."""
    page = person.page
    response = page.goto(person.web.base + address)
    assert response is not None and response.status < 400, f"{address}: {response}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    person.check_accessibility()
    landed = page.url.removeprefix(person.web.base).split("?")[0]
    if landed in shown:
        return False
    shown.add(landed)
    if SAVE:
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    return True


def test_the_main_screens_of_each_role(staff: Any, web: Any, infra: Any) -> None:
    ids = populate(infra, web)
    people: dict[str, Staff] = {}

    def person(login: str) -> Staff:
        if login not in people:
            people[login] = staff().sign_in_as(login)
            people[login].page.set_viewport_size(VIEWPORT)
        return people[login]

    shot: list[str] = []
    shown: dict[str, set[str]] = {}
    for name, login, address in named_screens(ids):
        assert shoot(person(login), name, address, shown.setdefault(login, set())), name
        shot.append(name)
    # One picture of each screen: a screen a named picture or another person shows
    # already (the same page for another role) is not taken again.
    taken = {screen_of(address) for _, _, address in named_screens(ids)}
    for login in ("anne", "mette", "karin", "sofie", "peter", "bo", "ole", "kab",
                  "jobcenter"):
        for name, address in more_screens(person(login), login, taken):
            if shoot(person(login), name, address, shown.setdefault(login, set())):
                shot.append(name)
    assert len(shot) == len(set(shot)), f"two screens with one name: {sorted(shot)}"
    if SAVE:
        missing = [n for n in shot if not (OUT / f"{n}.png").exists()]
        assert missing == [], missing
