"""`samspil demo` against the whole running system, as a newcomer runs it: the seed
stories play over RPC and the screen ends with seed 001's figures and the pathway's
timeline. A second run adds nothing."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from zoneinfo import ZoneInfo

import pytest

from services.cli.demo import (
    COURSES_82B,
    PERIOD_END,
    PERIOD_START,
    TOTAL_INQUIRIES,
    fronten_plan,
    resume_plan,
)
from services.intake.cpr import parse_cpr
from tests.e2e.test_cli import running, samspil  # noqa: F401  (the module's running system)

pytestmark = pytest.mark.e2e

SEED_001 = ("Antal samlede henvendelser = 204",
            "Antal iværksatte SEL § 82b forløb = 65",
            "Af de 65 iværksatte SEL § 82b forløb er ingen borgere henvist videre til udredning "
            "med henblik på at blive indstillet til en SEL § 85 ydelse.")
# The pathway of seed 003, in the order the timeline must show it.
STORY = ("inquiry_registered", "pathway_referral", "pathway_opened", "member_added",
         "tovholder_appointed", "network_person_added", "meeting_scheduled",
         "plan_version_created", "plan_agreed", "action_status_changed",
         "tovholder_handed_over")


# -- the plan the demo registers (pure) ---------------------------------------------------


def test_the_plan_reproduces_seed_001():
    plan = fronten_plan()
    assert plan == fronten_plan()  # deterministic: an interrupted run can resume
    assert len(plan) == TOTAL_INQUIRIES
    copenhagen = ZoneInfo("Europe/Copenhagen")
    days = [p.registered_at.astimezone(copenhagen).date() for p in plan]
    assert min(days) >= dt.date(2018, 4, 3) and max(days) <= PERIOD_END  # Fronten opened 3 April
    assert all(day.weekday() < 5 for day in days)
    courses = [p for p in plan if p.course]
    assert len(courses) == COURSES_82B
    assert all(p.citizen is not None for p in courses)  # a course needs a citizen
    # Intake registers every named citizen first: a valid CPR number (by the rules intake
    # checks), one per person, and within Fronten's target group (16 to 67) at the inquiry.
    citizens = [p.citizen for p in plan if p.citizen is not None]
    assert len({c.cpr for c in citizens}) == len(citizens)
    for p in plan:
        if p.citizen is not None:
            assert parse_cpr(p.citizen.cpr).birth_date == p.citizen.birth_date
            age = (p.registered_at.date() - p.citizen.birth_date).days // 365
            assert 16 <= age < 67, p.citizen
    for p in courses:
        start, end = p.course_dates()
        registered = p.registered_at.astimezone(copenhagen).date()
        assert PERIOD_START <= registered <= start <= PERIOD_END
        assert end - start == dt.timedelta(weeks=20)
    assert {p.outcome for p in plan if not p.course} <= {"advice_only", "referral_other"}


def test_an_interrupted_run_resumes_to_the_same_figures():
    plan = fronten_plan()
    assert resume_plan(plan, 0, 0) == plan
    # Stopped between an inquiry and its course: the rest still adds up to 204 and 65.
    first_course = next(i for i, p in enumerate(plan) if p.course)
    rest = resume_plan(plan, first_course + 1, 0)
    assert rest is not None
    assert len(rest) == TOTAL_INQUIRIES - first_course - 1
    assert sum(p.course for p in rest) == COURSES_82B
    assert resume_plan(plan, TOTAL_INQUIRIES + 1, 0) is None  # someone else's data
    assert resume_plan(plan, TOTAL_INQUIRIES, 0) is None  # no inquiries left for courses


# -- the demo on the running system -----------------------------------------------------------


@pytest.fixture(scope="module")
def first_run(running) -> subprocess.CompletedProcess:  # noqa: F811
    """The demo as a newcomer runs it (not --fast: one call at a time, with pauses)."""
    return samspil(running.config, "demo", timeout=300)


def test_demo_plays_the_stories_and_ends_with_the_report_and_the_timeline(first_run):
    assert first_run.returncode == 0, first_run.stderr
    out = first_run.stdout
    assert "Traceback" not in first_run.stderr
    # (a) a progress counter up to the full period
    assert f"{TOTAL_INQUIRIES}/{TOTAL_INQUIRIES} inquiries, {COURSES_82B}/{COURSES_82B}" in out
    # (b) the event from intake reached coordination, which opened the pathway
    assert "opened, awaiting a tovholder" in out
    assert "coordination.meeting_scheduled →" in out  # notifications planned the invitations
    # (c) up the ladder and back down
    assert "escalated_to_association at once" in out
    assert "→ termination_urgent" in out
    assert "termination_urgent → reported" in out
    assert "case closed (tenancy_kept)" in out
    # The end: seed 001's report, then the timeline with the story in order.
    report_at = out.index("Statistics for 2018-04-01..2018-07-31")
    timeline_at = out.index("The pathway's timeline")
    assert report_at < timeline_at
    for sentence in SEED_001:
        assert sentence in out[report_at:timeline_at]
    kinds = [line.split()[3] for line in out[timeline_at:].splitlines()
             if line.startswith("  20")]
    positions = iter(range(len(kinds)))
    for kind in STORY:  # the story is a subsequence of the timeline
        assert any(kinds[i] == kind for i in positions), (kind, kinds)


def test_a_second_run_adds_nothing_twice(running, first_run):  # noqa: F811
    assert first_run.returncode == 0, first_run.stderr
    again = samspil(running.config, "demo", "--fast", timeout=300)
    assert again.returncode == 0, again.stderr
    assert "already played: 204 inquiries and 65 § 82 b courses" in again.stdout
    assert "already played: Viggo Eksempel has pathway" in again.stdout
    for sentence in SEED_001:
        assert sentence in again.stdout
    figures = samspil(running.config, "statistics", "--from", "2018-04-01", "--to",
                      "2018-07-31", "--json")
    assert figures.returncode == 0, figures.stderr
    report = json.loads(figures.stdout)
    assert (report["total_inquiries"], report["courses_82b_started"],
            report["courses_82b_referred_85"]) == (204, 65, 0)
    assert sum(report["by_channel"].values()) == 204
