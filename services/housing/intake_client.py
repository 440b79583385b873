"""Asking intake who a tenant is, when the reporter has no citizen_ref.

The match data (CPR number, name, birth date) goes to intake's `match_citizen` and
nowhere else: housing neither stores nor logs it. Called before the unit of work
opens, so no transaction waits on the network, and with a timeout
(`HOUSING_INTAKE_TIMEOUT_SECONDS`, default 5 s), so a hung intake cannot pin a housing
worker after the gateway has given up: a report whose lookup times out opens its case
unidentified (Fronten is asked to find the citizen), as when intake is down.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import eventlet
from nameko.exceptions import RemoteError, UnknownService

from contracts.actor import service_actor
from services.common.errors import DomainError

log = logging.getLogger(__name__)

#: The purpose intake's access log records for the lookup: a citizen asking for the
#: dates and purposes of lookups of their data reads it, so it is plain Danish.
MATCH_PURPOSE = "lejer med huslejerestance"

HOUSING = service_actor("housing")

#: How long a report waits for intake's answer (seconds), unless configured.
DEFAULT_TIMEOUT_SECONDS = 5.0


class IntakeMatcher:
    """A callable over intake's RPC proxy: (actor, cpr, name, birth_date) -> citizen_ref."""

    def __init__(self, proxy: Any, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def __call__(
        self,
        *,
        actor: str,
        cpr: str | None = None,
        name: str | None = None,
        birth_date: dt.date | None = None,
    ) -> str | None:
        timer = eventlet.Timeout(self.timeout)
        try:
            # Housing asks as itself: matching a reported tenant is a step of housing's
            # process, whoever reported (a partner or staff may not search intake's
            # citizens themselves). Intake's access log records housing and the purpose.
            result = self.proxy.match_citizen(
                actor=str(HOUSING),
                purpose=MATCH_PURPOSE,
                cpr=cpr,
                name=name,
                birth_date=birth_date.isoformat() if birth_date else None,
            )
        except eventlet.Timeout as exc:
            if exc is not timer:
                raise  # someone else's timeout
            log.warning("intake.match_citizen did not answer within %g s; case opens "
                        "unidentified", self.timeout)
            return None
        except RemoteError as exc:
            if exc.exc_type == "InvalidInput":
                raise DomainError(
                    "match", "housing.match_data_refused", _first_message(exc.value)
                ) from None
            # The report is on the legal clock: open the case unidentified (Fronten is
            # addressed to find the citizen) rather than refuse it.
            log.warning("intake.match_citizen failed (%s); case opens unidentified",
                        exc.exc_type)
            return None
        except UnknownService:
            log.warning("intake is not running; case opens unidentified")
            return None
        finally:
            timer.cancel()
        ref = (result or {}).get("citizen_ref")
        return str(ref) if ref else None


def _first_message(value: Any) -> str:
    try:
        errors = json.loads(value)["errors"]
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    except (TypeError, ValueError, KeyError):
        return "Intake could not use the data given to find the tenant."
