"""`samspil demo`: the seed stories, played against the running system over RPC.

(a) Fronten's first four months (seed 001): 204 inquiries between 1 April and 31 July
    2018, 65 § 82 b courses started, none referred on to § 85. The citizens an inquiry
    names are registered first (fictional CPR numbers with real dates).
(b) The pathway of seed 003: a boy referred by his parents, a team of three with him and
    his parents, the first meeting proposed and scheduled, a plan he agrees to, stepped
    actions, a tovholder handover.
(c) One rent-arrears case up the ladder and back down.
It ends with the statistics report and the pathway's timeline. Every person is
fictional ("Eksempel" is Danish for "example"). A second run finds its data and says
so instead of registering it twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

from services.cli.remote import EXIT_FAIL, EXIT_OK, CommandFailed, Remote, connect

T = TypeVar("T")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Who acts: Fronten's staff plays the stories, the tovholder works the pathway, an
# operator registers the housing association (the roles the gateway would give them).
ACTOR = {"kind": "staff", "id": "demo-fronten", "name": "Fronten (demo)",
         "roles": ["fronten"]}
TOVHOLDER_ACTOR = {"kind": "staff", "id": "demo-mette", "name": "Mette Eksempel-Socialrådgiver",
                   "roles": ["tovholder"]}
OPERATOR_ACTOR = {"kind": "staff", "id": "demo-drift", "name": "Drift (demo)",
                  "roles": ["operator"]}
# A coordinator takes the referral in: gathers the first of the team, appoints the tovholder.
COORDINATOR_ACTOR = {"kind": "staff", "id": "demo-karin", "name": "Karin (demo)",
                     "roles": ["coordinator"]}

# -- (a) seed 001 ----------------------------------------------------------------------

PERIOD_START, PERIOD_END = dt.date(2018, 4, 1), dt.date(2018, 7, 31)
OPENING_DAY = dt.date(2018, 4, 3)  # Fronten opened its doors on Tuesday 3 April 2018
TOTAL_INQUIRIES, COURSES_82B, REFERRED_85 = 204, 65, 0
COURSE_WEEKS = 20  # "u-visiterede forløb af op til 20 ugers varighed" (the 2018 report)

WISHES = {  # the citizen's own words, per topic
    "housing": "Jeg vil gerne blive boende i min lejlighed.",
    "economy": "Jeg vil have overblik over mine regninger.",
    "loneliness": "Jeg vil gerne have nogen at tale med.",
    "mental_health": "Jeg vil have det bedre med mig selv.",
    "physical_health": "Jeg vil klare hverdagen selv, selv om jeg har ondt.",
    "education": "Jeg vil gerne i gang med en uddannelse.",
    "employment": "Jeg vil gerne tilbage på arbejde.",
    "everyday_structure": "Jeg vil have struktur på min dag.",
    "social_anxiety": "Jeg vil turde gå ud blandt andre mennesker.",
    "network": "Jeg vil have bedre kontakt med min familie.",
    "rent_arrears": "Jeg skylder husleje og vil finde en løsning.",
    "addiction": "Jeg vil gerne drikke mindre.",
    "other": "Jeg ved ikke helt, hvor jeg skal begynde.",
}
CHANNELS = (("walk_in", 45), ("phone", 35), ("mail", 15), ("digital_form", 5))
INQUIRERS = (("citizen", 76), ("relative", 14), ("professional", 10))
TOPICS = (("housing", 14), ("economy", 14), ("everyday_structure", 12), ("loneliness", 10),
          ("mental_health", 10), ("rent_arrears", 8), ("education", 7), ("employment", 6),
          ("social_anxiety", 6), ("network", 5), ("physical_health", 4), ("addiction", 3),
          ("other", 1))


# Fictional first names; every demo citizen's surname is "Eksempel".
FIRST_NAMES = ("Anders", "Birgitte", "Carsten", "Dorthe", "Erik", "Frida", "Gustav",
               "Hanne", "Ib", "Jytte", "Kim", "Lene", "Morten", "Nina", "Ole", "Pia",
               "Rasmus", "Signe", "Torben", "Ulla", "Vibeke", "Aksel", "Bodil", "Dennis")
# Born between these years: 18 to 66 in 2018, inside Fronten's target group (16 to the
# state pension age), so no course is flagged for a person to decide.
BIRTH_YEARS = (1952, 1999)


@dataclass(frozen=True)
class FictionalCitizen:
    """A made-up citizen the demo registers at Fronten before the first inquiry about
    them: a CPR number with a valid date (the 7th digit puts it in the 1900s) whose last
    digits are the inquiry's number, so no two are alike."""

    cpr: str
    name: str
    birth_date: dt.date

    def registration(self) -> dict[str, str]:
        """register_citizen's arguments (letters: the demo sends them no mail)."""
        return {"cpr": self.cpr, "name": self.name, "preferred_channel": "letter"}


def fictional_citizen(rng: random.Random, number: int) -> FictionalCitizen:
    """The citizen of inquiry `number` (0-999)."""
    born = dt.date(rng.randint(*BIRTH_YEARS), rng.randint(1, 12), rng.randint(1, 28))
    century_digit = rng.randint(0, 3)  # 0-3: born 1900-1999, whatever the year
    cpr = f"{born:%d%m%y}-{century_digit}{number:03d}"
    return FictionalCitizen(cpr=cpr, name=f"{rng.choice(FIRST_NAMES)} Eksempel",
                            birth_date=born)


@dataclass(frozen=True)
class PlannedInquiry:
    """One of Fronten's 2018 inquiries as the demo registers it."""

    registered_at: dt.datetime
    channel: str
    inquirer_kind: str
    topics: tuple[str, ...]
    citizen: FictionalCitizen | None  # None: anonymous advice
    course: bool  # a § 82 b course starts from it
    outcome: str  # when no course: advice_only or referral_other
    conversations: int | None

    @property
    def wish(self) -> str:
        return WISHES[self.topics[0]]

    def course_dates(self) -> tuple[dt.date, dt.date]:
        """Start within a week of the inquiry (never after the period); 20 weeks long."""
        day = self.registered_at.astimezone(COPENHAGEN).date()
        start = min(day + dt.timedelta(days=(day.toordinal() % 5) + 1), PERIOD_END)
        return start, start + dt.timedelta(weeks=COURSE_WEEKS)


def _pick(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def opening_days() -> list[dt.date]:
    from services.common.holidays import is_working_day

    days, day = [], OPENING_DAY
    while day <= PERIOD_END:
        if is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def fronten_plan(seed: int = 2018) -> list[PlannedInquiry]:
    """The 204 inquiries of seed 001 (65 of them start a § 82 b course), in time order.
    Deterministic, so an interrupted demo can resume where it stopped."""
    rng = random.Random(seed)
    days = opening_days()
    stamps = sorted(
        dt.datetime.combine(rng.choice(days), dt.time(rng.randint(8, 14), rng.choice((0, 15, 30,
                            45))), COPENHAGEN).astimezone(dt.UTC)
        for _ in range(TOTAL_INQUIRIES)
    )
    drafts: list[tuple[dt.datetime, str, str, tuple[str, ...], FictionalCitizen | None]] = []
    for at in stamps:
        inquirer = _pick(rng, INQUIRERS)
        # Relatives and professionals often ask for advice without naming anyone.
        named = inquirer == "citizen" or rng.random() < 0.4
        first = _pick(rng, TOPICS)
        topics = (first,) if rng.random() < 0.6 else tuple(dict.fromkeys((first,
                                                                           _pick(rng, TOPICS))))
        drafts.append((at, _pick(rng, CHANNELS), inquirer, topics,
                       fictional_citizen(rng, len(drafts)) if named else None))
    named_idx = [i for i, d in enumerate(drafts) if d[4] is not None]
    courses = set(rng.sample(named_idx, COURSES_82B))
    plan = []
    for i, (at, channel, inquirer, topics, citizen) in enumerate(drafts):
        advice = rng.random() < 0.8
        plan.append(PlannedInquiry(
            registered_at=at, channel=channel, inquirer_kind=inquirer, topics=topics,
            citizen=citizen, course=i in courses,
            outcome="advice_only" if advice else "referral_other",
            conversations=rng.randint(1, 3) if advice else None,
        ))
    return plan


def resume_plan(plan: list[PlannedInquiry], inquiries_done: int,
                courses_done: int) -> list[PlannedInquiry] | None:
    """What is left to register after an interrupted run (None: cannot be completed)."""
    if inquiries_done > len(plan):
        return None
    rest = plan[inquiries_done:]
    needed = COURSES_82B - courses_done
    if sum(p.course for p in rest) == needed:
        return rest
    named = [i for i, p in enumerate(rest) if p.citizen is not None]
    if needed < 0 or needed > len(named):
        return None
    chosen = set(named[:needed])
    return [dataclasses.replace(p, course=i in chosen) for i, p in enumerate(rest)]


# -- output ------------------------------------------------------------------------------


class Screen:
    """What the newcomer sees: steps, the service that acted, a progress bar."""

    def __init__(self, out: TextIO, pause: float) -> None:
        self.out = out
        self.pause = pause
        self.tty = out.isatty()
        self._last_step = -1

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def heading(self, text: str) -> None:
        self.say()
        self.say(text)
        self.say("-" * len(text))

    def step(self, service: str, text: str) -> None:
        self.say(f"  {service:<13} {text}")
        if self.pause:
            time.sleep(self.pause)

    def progress(self, done: int, total: int, courses: int) -> None:
        width = 30
        filled = width * done // total if total else width
        line = (f"  [{'#' * filled}{'.' * (width - filled)}] {done:>3}/{total} inquiries, "
                f"{courses:>2}/{COURSES_82B} § 82 b courses")
        if self.tty:
            print("\r" + line, end="" if done < total else "\n", file=self.out, flush=True)
        elif done == total or done // 50 > self._last_step:  # a line per 50 in a log
            self._last_step = done // 50
            self.say(line)


def wait_until(probe: Callable[[], T], timeout: float = 20.0) -> tuple[T, float]:
    """Poll until `probe()` is truthy; (its value, seconds it took), or (falsy, timeout)."""
    started = time.monotonic()
    value = probe()
    while not value and time.monotonic() - started < timeout:
        time.sleep(0.1)
        value = probe()
    return value, time.monotonic() - started


# -- (a) ---------------------------------------------------------------------------------


def _period_figures(remote: Remote) -> dict[str, Any]:
    return dict(remote.call("intake", "statistics", period_start=PERIOD_START.isoformat(),
                            period_end=PERIOD_END.isoformat()))


def play_fronten(remote: Remote, screen: Screen, fast: bool) -> None:
    screen.heading("(a) Fronten's first four months: 1 April to 31 July 2018 (seed 001)")
    figures = _period_figures(remote)
    done_inq, done_c = figures["total_inquiries"], figures["courses_82b_started"]
    if (done_inq, done_c) == (TOTAL_INQUIRIES, COURSES_82B):
        screen.step("intake", f"already played: {done_inq} inquiries and {done_c} § 82 b "
                              "courses are registered for the period (nothing added)")
        return
    rest = resume_plan(fronten_plan(), done_inq, done_c)
    if rest is None or figures["courses_82b_referred_85"]:
        screen.step("intake", f"the period already holds {done_inq} inquiries and {done_c} "
                              "courses that this demo cannot complete to seed 001's figures; "
                              "nothing added")
        return
    if done_inq:
        screen.step("intake", f"resuming an interrupted run: {done_inq} inquiries and "
                              f"{done_c} courses are there already")
    screen.step("intake", "registering the citizens an inquiry names (register_citizen), "
                          "the inquiries (register_inquiry), starting § 82 b courses "
                          "(start_course) and resolving the rest (resolve_inquiry)")
    screen.step("", "each one publishes intake.inquiry_registered; coordination records it "
                    "against the citizen")
    batch = 16 if fast else 1
    inquiries, courses = done_inq, done_c
    screen.progress(inquiries, TOTAL_INQUIRIES, courses)
    for first in range(0, len(rest), batch):
        chunk = rest[first:first + batch]
        # Intake refuses an inquiry for a citizen it does not know: register them first.
        refs = _citizen_refs(remote, [p.citizen for p in chunk if p.citizen is not None])
        pending = [remote.call_async(
            "intake", "register_inquiry", channel=p.channel, inquirer_kind=p.inquirer_kind,
            topics=list(p.topics), wish=p.wish,
            citizen_ref=refs[p.citizen.cpr] if p.citizen is not None else None,
            registered_at=p.registered_at.isoformat()) for p in chunk]
        ids = [remote.result(reply)["inquiry_id"] for reply in pending]
        pending = []
        for p, inquiry_id in zip(chunk, ids, strict=True):
            if p.course:
                start, end = p.course_dates()
                pending.append(remote.call_async(
                    "intake", "start_course", inquiry_id=inquiry_id, kind="individual_82b",
                    start_date=start.isoformat(), planned_end=end.isoformat(),
                    plan={"goals": [p.wish],
                          "follow_up_dates": [(start + dt.timedelta(weeks=w)).isoformat()
                                              for w in (4, 10, 16)]}))
            else:
                resolved = p.registered_at + dt.timedelta(days=1 + p.registered_at.day % 6)
                pending.append(remote.call_async(
                    "intake", "resolve_inquiry", inquiry_id=inquiry_id, outcome=p.outcome,
                    conversations=p.conversations, resolved_at=resolved.isoformat()))
        for reply in pending:
            remote.result(reply)
        inquiries += len(chunk)
        courses += sum(p.course for p in chunk)
        screen.progress(inquiries, TOTAL_INQUIRIES, courses)


MATCH_PURPOSE = "demo: er borgeren registreret?"


def _citizen_refs(remote: Remote, people: Sequence[FictionalCitizen]) -> dict[str, str]:
    """Each fictional citizen's ref by CPR number: found (an interrupted run registered
    them already), else registered. The calls of a batch go out together."""
    refs: dict[str, str] = {}
    lookups = [(person, remote.call_async("intake", "match_citizen", purpose=MATCH_PURPOSE,
                                          cpr=person.cpr)) for person in people]
    missing = []
    for person, reply in lookups:
        found = remote.result(reply)["citizen_ref"]
        if found:
            refs[person.cpr] = str(found)
        else:
            missing.append(person)
    made = [(person, remote.call_async("intake", "register_citizen", **person.registration()))
            for person in missing]
    for person, reply in made:
        refs[person.cpr] = str(remote.result(reply)["citizen_ref"])
    return refs


# -- (b) seed 003 ------------------------------------------------------------------------

VIGGO = {"cpr": "240306-4417", "name": "Viggo Eksempel", "email": "viggo.eksempel@example.org",
         "preferred_channel": "email"}
TEAM = (
    ("demo-mette", "Mette Eksempel-Socialrådgiver", "mette.demo@example.org",
     "social_services", "socialrådgiver"),
    ("demo-lars", "Lars Eksempel-Lærer", "lars.demo@example.org", "school", "lærer"),
    ("demo-ulla", "Ulla Eksempel-Ungekonsulent", "ulla.demo@example.org", "upoint",
     "ungekonsulent"),
)


def _citizen(remote: Remote, person: dict[str, str]) -> tuple[str, bool]:
    """The fictional citizen's ref: found by CPR, else registered. (ref, newly registered)"""
    found = remote.call("intake", "match_citizen", purpose=MATCH_PURPOSE,
                        cpr=person["cpr"])["citizen_ref"]
    if found:
        return str(found), False
    made = remote.call("intake", "register_citizen", **person)
    return str(made["citizen_ref"]), True


def _deliveries_for(remote: Remote, event_type: str, correlation: set[str]) -> list[dict]:
    rows = remote.call("notifications", "list_deliveries", actor=OPERATOR_ACTOR,
                       event_type=event_type, limit=200)
    return [r for r in rows if r.get("correlation_id") in correlation]


def _show_deliveries(remote: Remote, screen: Screen, event_type: str,
                     correlation: set[str], what: str) -> None:
    rows, _ = wait_until(lambda: _deliveries_for(remote, event_type, correlation), 15)
    if not rows:
        screen.step("notifications", f"{event_type}: no delivery planned yet for {what}")
        return
    summary = ", ".join(sorted({f"{r['recipient_kind']} by {r['channel']} ({r['status']})"
                                for r in rows}))
    count = f"{len(rows)} deliveries" if len(rows) != 1 else "1 delivery"
    screen.step("notifications", f"{event_type} → {count} planned {what}: {summary}")


def play_pathway(remote: Remote, screen: Screen) -> str | None:
    screen.heading("(b) A sammenhængende borgerforløb (seed 003)")
    citizen, new = _citizen(remote, VIGGO)
    screen.step("intake", f"{VIGGO['name']}, 20, is {'registered' if new else 'known'}: "
                          f"citizen_ref {citizen[:8]}… (the CPR number stays in intake)")
    existing = _seen_pathway(remote, citizen)
    if existing:
        screen.step("coordination", f"already played: {VIGGO['name']} has pathway "
                                    f"{existing[:8]}… (nothing added)")
        return existing

    # He agrees that his school and Upoint join his team (the plan and the meetings).
    for agency in ("school", "upoint"):
        remote.call("intake", "give_consent", citizen_ref=citizen, recipient=agency,
                    purpose="pathway_team", information_kinds=["action_plan",
                                                               "meeting_schedule"],
                    form="written")
    screen.step("intake", "he consents to his school and Upoint joining his team "
                          "(intake.consent_given)")
    inquiry = remote.call(
        "intake", "register_inquiry", channel="phone", inquirer_kind="relative",
        topics=["education", "loneliness", "social_anxiety"], citizen_ref=citizen,
        wish="Han vil gerne ud af sit værelse og i skole igen.")
    screen.step("intake", "his parents phone Fronten: he stays in his room and skips school")
    remote.call("intake", "resolve_inquiry", inquiry_id=inquiry["inquiry_id"],
                outcome="referral_pathway")
    screen.step("intake", "referred to a sammenhængende borgerforløb: publishes "
                          "intake.pathway_referral")
    found, took = wait_until(lambda: _awaiting_tovholder(remote, citizen), 30)
    if not found:
        screen.step("coordination", "the pathway did not open within 30 s: is coordination "
                                    "consuming? (samspil dead-letters list)")
        return None
    pathway = found
    screen.step("coordination", f"consumed it {took:.1f} s later: pathway {pathway[:8]}… "
                                "opened, awaiting a tovholder (on the coordinators' list)")

    member_id, name, email, agency, role = TEAM[0]
    remote.call("coordination", "add_member", actor=COORDINATOR_ACTOR, pathway_id=pathway,
                member_id=member_id, name=name, email=email, agency=agency, role=role)
    remote.call("coordination", "appoint_tovholder", actor=COORDINATOR_ACTOR,
                pathway_id=pathway, member_id=member_id)
    screen.step("coordination", f"a coordinator appoints {name} tovholder: coordination."
                                "tovholder_handed_over tells Viggo who his contact is")
    call = _pathway_caller(remote, pathway)
    for member_id, name, email, agency, role in TEAM[1:]:
        member = {"member_id": member_id, "name": name, "email": email, "agency": agency,
                  "role": role}
        # The consents reach coordination as events: until then it refuses the member.
        joined, _ = wait_until(functools.partial(_joined, call, **member), 30)
        if not joined:
            screen.step("coordination", f"{name} could not join: coordination has not heard "
                                        "of the consent (samspil dead-letters list)")
            return None
    screen.step("coordination", "team: a school teacher and an Upoint youth consultant join "
                                "(coordination.member_added ×3 in all)")
    mother = call("add_network_person", name="Hanne Eksempel", relation="mor")["person_id"]
    father = call("add_network_person", name="Peter Eksempel", relation="far")["person_id"]
    screen.step("coordination", "his mother and father take part in the meetings")
    call("set_citizen_preferences", not_before="10:00", place="home")
    invitees = [{"participant_id": "demo-lars", "required": True},
                {"participant_id": "demo-ulla", "required": True},
                {"participant_id": mother, "required": False},
                {"participant_id": father, "required": False}]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    proposal = call("propose_slots", length_minutes=60,
                    horizon_start=(now + dt.timedelta(hours=1)).isoformat(),
                    horizon_end=(now + dt.timedelta(days=21)).isoformat(),
                    participants=invitees, limit=3)
    slots = proposal["slots"]
    shown = ", ".join(_local(s["starts_at"]) for s in slots) or "none"
    screen.step("coordination", f"first meeting, at home, not before 10 (he sleeps late): "
                                f"proposed {shown}")
    if slots:
        meeting = call("schedule_meeting", starts_at=slots[0]["starts_at"],
                       ends_at=slots[0]["ends_at"], participants=invitees)
        screen.step("coordination", f"scheduled {_local(slots[0]['starts_at'])}: publishes "
                                    "coordination.meeting_scheduled (SEQUENCE 0)")
        _show_deliveries(remote, screen, "coordination.meeting_scheduled",
                         {pathway, str(meeting["meeting_id"])}, "(invitations with .ics)")

    today = dt.datetime.now(COPENHAGEN).date()

    def due(days: int) -> str:
        return (today + dt.timedelta(days=days)).isoformat()

    plan = call("draft_plan", goals=[
        {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.", "actions": [
            {"action_id": "a-bed", "text": "Ulla hjælper Viggo ud af sengen om morgenen.",
             "owner_id": "demo-ulla", "due_on": due(7)},
            {"action_id": "a-calls", "text": "Ulla ringer to gange hver morgen.",
             "owner_id": "demo-ulla", "due_on": due(21)},
            {"action_id": "a-call", "text": "Ulla ringer én gang hver morgen; så ingen.",
             "owner_id": "demo-ulla", "due_on": due(42)}]},
        {"goal_id": "g-shy", "text": "Jeg vil gerne være mindre genert.", "actions": [
            {"action_id": "a-cafe", "text": "Viggo bestiller selv på caféen.",
             "owner_id": "demo-ulla", "due_on": due(14)}]},
        {"goal_id": "g-parents", "text": "Han skal passe sin skole.", "voice": "network",
         "actions": [{"action_id": "a-attendance", "text": "Lars følger op på fremmødet.",
                      "owner_id": "demo-lars", "due_on": due(10)}]},
    ])
    screen.step("coordination", "handleplan v1: his own goals (back to school; less shy), "
                                "small stepped actions")
    call("record_plan_agreement", version=plan["version"], how="written")
    screen.step("coordination", "Viggo agrees to the plan: coordination.plan_agreed")
    call("set_action_status", action_id="a-bed", status="done")
    screen.step("coordination", "first step done: Ulla got him out of bed")
    call("hand_over_tovholder", new_tovholder_id="demo-ulla",
         reason="Mette skifter afdeling; Ulla kender Viggo bedst.")
    screen.step("coordination", f"tovholder handed over to {TEAM[2][1]}: "
                                "coordination.tovholder_handed_over")
    _show_deliveries(remote, screen, "coordination.tovholder_handed_over", {pathway},
                     "(Viggo is told who his new contact is)")
    return pathway


def _seen_pathway(remote: Remote, citizen: str) -> str | None:
    """The citizen's open pathway, asked as those who may see it (need-to-know): the
    tovholder who took it, or a coordinator while it awaits its tovholder."""
    found = remote.call("coordination", "find_pathway", actor=TOVHOLDER_ACTOR,
                        citizen_ref=citizen)
    return str(found["pathway_id"]) if found else _awaiting_tovholder(remote, citizen)


def _awaiting_tovholder(remote: Remote, citizen: str) -> str | None:
    """The citizen's pathway on the coordinators' list, once coordination opened it."""
    page = remote.call("coordination", "awaiting_tovholder", actor=COORDINATOR_ACTOR,
                       cursor=None, limit=200, under_30=None)
    return next((str(i["subject_id"]) for i in page["items"] if i["citizen_ref"] == citizen),
                None)


def _joined(call: Callable[..., Any], **member: Any) -> bool:
    """Add a team member; False while coordination refuses for want of the consent."""
    try:
        call("add_member", **member)
    except CommandFailed as exc:
        if "consent.missing" in exc.message:
            return False
        raise
    return True


def _pathway_caller(remote: Remote, pathway: str) -> Callable[..., Any]:
    def call(method: str, **kwargs: Any) -> Any:
        return remote.call("coordination", method, actor=TOVHOLDER_ACTOR, pathway_id=pathway,
                           **kwargs)

    return call


def _local(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(COPENHAGEN).strftime("%a %d %b %H:%M")


# -- (c) housing ---------------------------------------------------------------------------

LONE = {"cpr": "150595-1234", "name": "Lone Eksempel", "email": "lone.eksempel@example.org",
        "preferred_channel": "email"}
ASSOCIATION = "demo-eksempelbo"
TENANCY = "7-0101-1"


def play_housing(remote: Remote, screen: Screen) -> None:
    screen.heading("(c) Rent arrears up the ladder and back down")
    _citizen(remote, LONE)  # registered at Fronten earlier; housing will find her
    remote.call("housing", "register_association", actor=OPERATOR_ACTOR,
                association_id=ASSOCIATION,
                name="Boligforeningen Eksempelbo (demo)", departments=[
                    {"number": "7", "name": "Eksempelparken", "tenancy_refs": [TENANCY]}])
    screen.step("housing", "boligforeningen Eksempelbo is a partner (afdeling 7, "
                           f"lejemål {TENANCY})")
    today = dt.datetime.now(COPENHAGEN).date()
    case = remote.call(
        "housing", "report_arrears", actor=f"partner:{ASSOCIATION}", source="association",
        association_id=ASSOCIATION, tenancy_ref=TENANCY,
        match={"name": LONE["name"], "birth_date": "1995-05-15"}, amount_dkk="14250.00",
        months_behind=2, pakrav_sent_on=(today - dt.timedelta(days=20)).isoformat(),
        pakrav_deadline=(today - dt.timedelta(days=6)).isoformat())
    case_id = str(case["case_id"])
    if not case["opened"]:
        screen.step("housing", f"an open demo case exists already (case {case_id[:8]}…, "
                               f"{case['level']}): left as it is")
        return
    # The association is shown its minimal view; Fronten sees whether housing found her.
    staff_view = remote.call("housing", "get_case", case_id=case_id)
    who = ("identified through intake" if staff_view["citizen_identified"]
           else "not identified")
    screen.step("housing", f"Eksempelbo reports 14.250 kr. in arrears; tenant {who} "
                           "(housing asked intake's match_citizen)")
    screen.step("housing", f"the påkrav deadline passed 6 days ago: {case['level']} at once "
                           "(housing.case_escalated; partner asked to hold the termination)")
    _show_deliveries(remote, screen, "housing.case_escalated", {case_id}, "(Fronten is told)")
    level = case["level"]
    for method, extra, text in (
        ("register_termination", {"termination_on": today.isoformat()},
         "Eksempelbo registers an ophævelse (termination)"),
        ("record_contact", {}, "Fronten reaches Lone"),
        ("propose_payment_plan", {}, "an afdragsordning (payment plan) is proposed"),
        ("agree_payment_plan", {}, "Eksempelbo agrees the payment plan"),
        ("withdraw_termination", {}, "Eksempelbo withdraws the ophævelse"),
        ("record_paid_in_full", {}, "the arrears are paid in full"),
    ):
        view = remote.call("housing", method, case_id=case_id, **extra)
        change = (f"{level} → {view['level']}" if view["level"] != level
                  else f"stays {level} (steps come down one at a time)")
        closed = f", case closed ({view['closure']})" if not view["is_open"] else ""
        screen.step("housing", f"{text}: {change}{closed}")
        level = view["level"]


# -- the ending ----------------------------------------------------------------------------


def show_report(remote: Remote, screen: Screen) -> dict[str, Any]:
    screen.heading("Statistics for 2018-04-01..2018-07-31 (samspil statistics)")
    report = _period_figures(remote)
    screen.say(report["text"].rstrip())
    return report


def show_timeline(remote: Remote, screen: Screen, pathway: str) -> None:
    screen.heading(f"The pathway's timeline ({VIGGO['name']})")
    entries = remote.call("coordination", "timeline", actor=TOVHOLDER_ACTOR,
                          pathway_id=pathway)["entries"]
    for entry in entries:
        at = dt.datetime.fromisoformat(entry["at"]).astimezone(COPENHAGEN)
        source = "coordination" if entry["source"] == "coordination" else "event"
        screen.say(f"  {at:%Y-%m-%d %H:%M}  {source:<12}  {entry['kind']:<24} "
                   f"{_details(entry.get('details') or {})}")


def _details(details: dict[str, Any]) -> str:
    keep = ("name", "role", "relation", "outcome", "topics", "version", "how", "status",
            "action_id", "starts_at", "new_tovholder_id", "old_tovholder_id", "reason", "level")
    parts = []
    for key in keep:
        if details.get(key) not in (None, "", []):
            value = details[key]
            value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{key}={value}")
    return "  ".join(parts)[:90]


def cmd_demo(args: argparse.Namespace) -> int:
    from services.cli import load_config

    config = load_config(args.config)
    screen = Screen(sys.stdout, 0.0 if args.fast else 0.3)
    screen.say("Samspil demo: the seed stories against the running system, over RPC. "
               "Every person here is fictional.")
    with connect(config, timeout=args.timeout, actor=ACTOR) as remote:
        started = time.monotonic()
        play_fronten(remote, screen, args.fast)
        pathway = play_pathway(remote, screen)
        try:
            play_housing(remote, screen)
            housing_failed = None
        except CommandFailed as exc:  # shown, and the figures and timeline still follow
            housing_failed = exc.message
            screen.step("housing", f"the story stopped: {exc.message}")
        report = show_report(remote, screen)
        if pathway:
            show_timeline(remote, screen, pathway)
    figures = (report["total_inquiries"], report["courses_82b_started"],
               report["courses_82b_referred_85"])
    screen.say()
    if figures != (TOTAL_INQUIRIES, COURSES_82B, REFERRED_85):
        print(f"samspil demo: the report shows {figures[0]}/{figures[1]}/{figures[2]}, not "
              f"seed 001's {TOTAL_INQUIRIES}/{COURSES_82B}/{REFERRED_85}: other data is in "
              "the period", file=sys.stderr)
        return EXIT_FAIL
    if pathway is None:
        return EXIT_FAIL
    if housing_failed is not None:
        print(f"samspil demo: the rent-arrears story stopped: {housing_failed}",
              file=sys.stderr)
        return EXIT_FAIL
    screen.say(f"Demo done in {time.monotonic() - started:.0f} s. Try: samspil deliveries list;"
               " samspil statistics --from 2018-04-01 --to 2018-07-31 --json")
    return EXIT_OK


def add_parser(sub: Any, timeout_default: float) -> None:
    p = sub.add_parser(
        "demo", help="play the seed stories against the running system",
        description="Plays Fronten's first four months (204 inquiries, 65 § 82 b courses, "
                    "none referred to § 85), a sammenhængende borgerforløb (seed 003) and one "
                    "rent-arrears case up the ladder and back down, over RPC against the "
                    "running services, then prints the statistics report and the pathway "
                    "timeline. A second run finds its data and adds nothing twice.",
        epilog="example: samspil run --migrate &  then  samspil demo")
    p.add_argument("--fast", action="store_true",
                   help="no pauses between steps; register the 2018 inquiries 16 at a time")
    p.add_argument("--timeout", type=float, default=timeout_default, metavar="SECONDS",
                   help=f"how long to wait for each answer (default {timeout_default:g})")
    p.set_defaults(func=cmd_demo)
