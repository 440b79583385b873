"""The partners service's settings, read once at start-up.

Config (deploy/config/partners.yaml)::

    HANDOFF_ANSWER_WORKING_DAYS: 5   # a partner answers within N working days
    PARTNERS_SWEEP_SECONDS: 30       # how often the sweep looks for unanswered hand-offs
    MAILBOXES:                       # the teams' shared addresses (as in notifications)
      fronten: ss-front@balk.dk
      ...
    HANDOFF_TEAMS:                   # optional: a team's name and phone for partners
      fronten: {name: Fronten, phone: "44 77 34 43"}

A team is the contact a partner is given when no person is responsible for the
subject, and the mailbox an unanswered hand-off escalates to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.partners.lifecycle import DEFAULT_ANSWER_WORKING_DAYS

DEFAULT_SWEEP_SECONDS = 30.0

_EMAIL = re.compile(r"[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+")


@dataclass(frozen=True)
class Team:
    """A team's work contact: what a partner reads when no person is named."""

    name: str
    email: str | None
    phone: str | None


DEFAULT_TEAMS: Mapping[str, Team] = {
    "fronten": Team("Fronten", "ss-front@balk.dk", "44 77 34 43"),
    "coordinators": Team("Koordineringen af sammenhængende borgerforløb",
                         "koordinering@balk.dk", None),
    "housing": Team("Det boligsociale team", "boligsocial@balk.dk", None),
    "social_vejledning": Team("Social Vejledning", "socialvejledning@balk.dk", None),
}


@dataclass(frozen=True)
class PartnersSettings:
    answer_working_days: int = DEFAULT_ANSWER_WORKING_DAYS
    teams: Mapping[str, Team] = field(default_factory=lambda: dict(DEFAULT_TEAMS))

    def team(self, mailbox: str) -> Team:
        return self.teams[mailbox]


def settings_from_config(config: Mapping[str, Any]) -> PartnersSettings:
    """PartnersSettings from the config; ValueError naming the key for a bad value."""
    days = config.get("HANDOFF_ANSWER_WORKING_DAYS")
    working_days = DEFAULT_ANSWER_WORKING_DAYS if days in (None, "") else days
    try:
        working_days = int(working_days)
    except (TypeError, ValueError):
        raise ValueError("HANDOFF_ANSWER_WORKING_DAYS must be a whole number") from None
    if not 1 <= working_days <= 60:
        raise ValueError("HANDOFF_ANSWER_WORKING_DAYS must be between 1 and 60")
    mailboxes = config.get("MAILBOXES") or {}
    overrides = config.get("HANDOFF_TEAMS") or {}
    if not isinstance(mailboxes, Mapping) or not isinstance(overrides, Mapping):
        raise ValueError("MAILBOXES and HANDOFF_TEAMS must be mappings by team")
    teams = dict(DEFAULT_TEAMS)
    for mailbox, team in DEFAULT_TEAMS.items():
        given = overrides.get(mailbox) or {}
        if not isinstance(given, Mapping) or set(given) - {"name", "email", "phone"}:
            raise ValueError(f"HANDOFF_TEAMS.{mailbox}: give name, email and/or phone")
        email = str(given.get("email") or mailboxes.get(mailbox) or team.email or "") or None
        if email is not None and not _EMAIL.fullmatch(email.strip()):
            raise ValueError(f"the e-mail address of team {mailbox}: {email!r} is not one")
        teams[mailbox] = Team(
            name=str(given.get("name") or team.name),
            email=email.strip().lower() if email else None,
            phone=str(given["phone"]) if given.get("phone") else team.phone,
        )
    unknown = sorted(set(overrides) - set(DEFAULT_TEAMS))
    if unknown:
        raise ValueError(f"HANDOFF_TEAMS: unknown team(s) {unknown}; known: "
                         f"{sorted(DEFAULT_TEAMS)}")
    return PartnersSettings(answer_working_days=working_days, teams=teams)


class Settings(DependencyProvider):
    """Injects the service's PartnersSettings."""

    def setup(self) -> None:
        self.settings = settings_from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> PartnersSettings:
        return self.settings


class SweepTimer(Timer):
    """nameko's timer with its interval from config (`PARTNERS_SWEEP_SECONDS`)."""

    def setup(self) -> None:
        self.interval = float(
            self.container.config.get("PARTNERS_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS
        )


sweep_timer = SweepTimer.decorator
