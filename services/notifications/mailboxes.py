"""The team mailboxes: where a mail goes when no one person is responsible for it.

The `MAILBOXES` setting is a mapping from a team to its shared address; a team left
out keeps its default. Fronten's mailbox falls back to the older `FRONTEN_EMAIL`
setting, so existing configurations keep working.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.notifications.gate import MAILBOX_KINDS, RecipientKind

DEFAULTS: Mapping[str, str] = {
    "fronten": "ss-front@balk.dk",
    "coordinators": "koordinering@balk.dk",
    "social_vejledning": "socialvejledning@balk.dk",
    "review_panel": "tvaergaaende-udvalg@balk.dk",
    "housing": "boligsocial@balk.dk",
}

_ADDRESS = re.compile(r"[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+")


@dataclass(frozen=True)
class Mailboxes:
    """One shared work address per team (lower-cased, as the ledger stores addresses)."""

    fronten: str = DEFAULTS["fronten"]
    coordinators: str = DEFAULTS["coordinators"]
    social_vejledning: str = DEFAULTS["social_vejledning"]
    review_panel: str = DEFAULTS["review_panel"]
    housing: str = DEFAULTS["housing"]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Mailboxes:
        """Read `MAILBOXES` (and `FRONTEN_EMAIL` for Fronten); raise ValueError naming
        the key for an unknown team or a value that is not an e-mail address."""
        given = config.get("MAILBOXES") or {}
        if not isinstance(given, Mapping):
            raise ValueError("MAILBOXES must be a mapping of team to e-mail address")
        unknown = sorted(set(given) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"MAILBOXES: unknown team(s) {unknown}; known: {sorted(DEFAULTS)}")
        values = dict(DEFAULTS)
        if config.get("FRONTEN_EMAIL"):
            values["fronten"] = str(config["FRONTEN_EMAIL"])
        values.update({team: str(address) for team, address in given.items() if address})
        for team, address in values.items():
            if not _ADDRESS.fullmatch(address.strip()):
                raise ValueError(f"MAILBOXES.{team}: {address!r} is not an e-mail address")
        return cls(**{team: address.strip().lower() for team, address in values.items()})

    def of(self, kind: RecipientKind) -> str:
        """The address of a mailbox recipient kind (KeyError for a person's kind)."""
        return str(getattr(self, MAILBOX_KINDS[kind]))
