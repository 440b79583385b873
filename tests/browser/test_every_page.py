"""The axe crawl: every demo user signs in and visits every page reachable from their
menu and their home (and the pages those link to), plus the subject pages the set-up
made; each page answers without an error and axe-core finds 0 WCAG 2.1 A/AA violations.

The set-up (through the API) gives every area something to show: arrears cases with a
hold request to KAB, pathways with a tovholder and one awaiting its tovholder, a
referral to the jobcenter, an open inquiry at Fronten, a course on the review panel's
agenda, a silent subscription.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from playwright.sync_api import expect

from services.gateway.auth import Role
from tests.browser.conftest import PASSWORD, Staff
from tests.browser.test_partner import (
    JOBCENTER,
    escalate_to_association,
    set_up_hold_request,
)
from tests.support.waiting import wait_for

# Every demo user with a role (deploy/oidc-dev/users.json); Gitte, who has none, below.
PEOPLE = ("anne", "mette", "karin", "sofie", "peter", "bo", "ole", "kab", "jobcenter")
MAX_DEPTH = 2  # home and the menu's pages, what they link to, and one step further
MAX_PAGES = 45  # per person: enough for every screen, bounded for a long list
SKIP_PREFIXES = ("/api", "/auth", "/static")
NOT_A_PAGE = (".csv",)
# Query parameters that page through the same screen, or carry a one-off notice.
SAME_SCREEN = {"cursor", "besked"}


def populate(infra: Any, web: Any) -> dict[str, str]:
    """Something on every screen: see the module's docstring. Returns subject ids."""
    ids = set_up_hold_request(infra, web)
    hold = escalate_to_association(web, ids["case"])
    ids["hold_request"] = str(hold["handoff_id"])
    tovholder = web.token(Role.TOVHOLDER, "mette")

    def refer() -> bool:  # once coordination has the jobcenter in its copy of the directory
        return requests.post(
            f"{web.base}/api/pathways/{ids['pathway']}/offer-referrals", timeout=30,
            headers={"Authorization": f"Bearer {tovholder}"},
            json={"partner_id": JOBCENTER, "ask": "Kan borgeren komme i praktik?"},
        ).status_code == 201

    wait_for(refer, timeout=60, interval=0.5, what="the referral to the jobcenter")
    jobcenter = web.token(Role.PARTNER, "jobcenter", partner=JOBCENTER)
    referral = wait_for(lambda: web.api("GET", "/api/partner/handoffs", jobcenter)["items"],
                        timeout=30, what="the jobcenter's hand-off")
    ids["referral"] = referral[0]["subject_id"]
    fronten = web.token(Role.FRONTEN, "anne")
    ids["inquiry"] = web.api("POST", "/api/inquiries", fronten, json={
        "channel": "phone", "inquirer_kind": "relative", "topics": ["rent_arrears"],
        "wish": "Min søn kan ikke betale huslejen."})["inquiry_id"]
    ids["course"] = course_on_the_agenda(web, fronten)
    waiting = web.api("POST", "/api/citizens", fronten, json={
        "cpr": "150595-1234", "name": "Lone Hansen", "email": "lone@example.dk",
        "preferred_channel": "email"})["citizen_ref"]
    ids["waiting_pathway"] = web.api(
        "POST", "/api/pathways", web.token(Role.COORDINATOR, "karin"),
        json={"citizen_ref": waiting, "under_30": True})["pathway_id"]
    web.api("POST", "/api/subscriptions", web.token(Role.OPERATOR, "ole"), json={
        "partner_id": "ungdomsklubben", "channel": "webhook",
        "event_types": ["partners.handoff_requested"],
        "url": "https://ungdomsklubben.example/samspil"})
    return ids


def course_on_the_agenda(web: Any, fronten: str) -> str:
    """A running § 82 b course, sent to the review panel (Fronten's work, set up)."""
    today = web.clock.now().date()
    citizen = web.api("POST", "/api/citizens", fronten, json={
        "cpr": "150298-1234", "name": "Sara Nielsen", "preferred_channel": "letter"})
    inquiry = web.api("POST", "/api/inquiries", fronten, json={
        "channel": "walk_in", "inquirer_kind": "citizen", "topics": ["mental_health"],
        "wish": "Jeg har brug for hjælp til at komme ud af døren.",
        "citizen_ref": citizen["citizen_ref"]})
    course = web.api("POST", "/api/courses", fronten, json={
        "inquiry_id": inquiry["inquiry_id"], "kind": "individual_82b",
        "start_date": today.isoformat(),
        "planned_end": (today + dt.timedelta(days=60)).isoformat(),
        "plan": {"goals": ["Jeg vil gå en tur hver dag."],
                 "follow_up_dates": [(today + dt.timedelta(days=21)).isoformat()]}})
    course_id = str(course["course_id"])
    web.api("POST", f"/api/courses/{course_id}/review", fronten, json={})
    return course_id


def subject_pages(ids: dict[str, str]) -> dict[str, list[str]]:
    """The pages of the set-up's subjects, by who may open them."""
    case, hold, referral = ids["case"], ids["hold_request"], ids["referral"]
    return {
        "bo": [f"/boligsager/{case}", f"/overdragelser/{hold}", "/boligsager?status=closed"],
        "anne": [f"/henvendelser/{ids['inquiry']}", f"/boligsager/{case}",
                 f"/forloeb/{ids['course']}"],
        "mette": [f"/boligsager/{case}", f"/overdragelser/{referral}"],
        "kab": [f"/partner/sager/{case}", f"/overdragelser/{hold}",
                "/partner/sager?status=closed"],
        "jobcenter": [f"/overdragelser/{referral}"],
        "ole": ["/drift/partnere/ny"],
    }


def _address(base: str, href: str) -> str | None:
    """The screen a link leads to (path and query, without paging or notices), or None
    when it is not one of the app's pages."""
    parts = urlsplit(href)
    if parts.scheme not in ("", "http", "https") or (
            parts.netloc and f"{parts.scheme}://{parts.netloc}" != base):
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path.endswith(NOT_A_PAGE):
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in SAME_SCREEN]
    return path + (f"?{urlencode(query)}" if query else "")


def crawl(person: Staff, extra: list[str], problems: list[str]) -> list[str]:
    """Visit every page reachable from the menu and home (to MAX_DEPTH), then `extra`;
    each must answer without an error and pass axe (else it is added to `problems`).
    Returns the addresses visited."""
    page, base = person.page, person.web.base
    seen: set[str] = set()
    queue: list[tuple[str, int]] = [("/", 0)]
    page.goto(base + "/")
    menu = page.locator("nav[aria-label='Hovedmenu'] a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    queue += [(address, 0) for href in menu if (address := _address(base, href))]
    queue += [(address, MAX_DEPTH) for address in extra]
    while queue:
        address, depth = queue.pop(0)
        if address in seen:
            continue
        assert len(seen) < MAX_PAGES, f"more than {MAX_PAGES} pages: {sorted(seen)}"
        seen.add(address)
        response = page.goto(base + address)
        if response is None or response.status >= 400:
            problems.append(f"{address} answered {response.status if response else 'nothing'}")
            continue
        try:
            person.check_accessibility()
        except AssertionError as violations:
            problems.append(str(violations))
        if depth >= MAX_DEPTH:
            continue
        links = page.locator("main a[href]:not([download])").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))")
        queue += [(found, depth + 1) for href in links
                  if (found := _address(base, href)) and found not in seen]
    return sorted(seen)


def test_every_page_of_every_role_has_no_axe_violations(staff, web, infra) -> None:
    ids = populate(infra, web)
    extra = subject_pages(ids)
    visited: dict[str, list[str]] = {}
    problems: list[str] = []
    for login in PEOPLE:
        person = staff().sign_in_as(login)
        found: list[str] = []
        visited[login] = crawl(person, extra.get(login, []), found)
        problems += [f"as {login}: {problem}" for problem in found]
        person.page.context.close()
    assert problems == [], "\n".join(problems)
    # The crawl reached each role's own screens (a menu that lost a page would show here).
    assert "/boligsager" in visited["bo"] and f"/boligsager/{ids['case']}" in visited["bo"]
    assert "/partner/anmodninger" in visited["kab"] and "/partner/sager" in visited["kab"]
    assert {"/drift", "/drift/partnere"} <= set(visited["ole"])

    # Gitte has no role in Samspil: the sign-in says so, and the statement is open to her.
    gitte = staff()
    page = gitte.page
    page.goto(web.base + "/")
    page.get_by_label("Brugernavn").fill("gitte")
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har ingen adgang til Samspil")
    gitte.check_accessibility()
    gitte.goto("/tilgaengelighed")
