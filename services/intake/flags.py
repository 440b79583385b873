"""The target group at the door: flag, never refuse. Pure rules, no I/O.

Fronten's offers are for adults from 16 to the state pension age (DOMAIN.md). A
course or a referral for someone outside that group is not refused: the law leaves
room for a good reason (a 15-year-old about to turn 16, a pensioner whose need fits
no other offer), but a person must look at it. So the use case goes ahead and a flag
goes on Fronten's list until someone decides (`FlagDecision`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from services.common.errors import Conflict
from services.intake.cpr import TargetGroup, target_group


class FlagSubject(StrEnum):
    """What was done for someone outside the target group."""

    COURSE = "course"  # a § 82 a/b or SFT course started
    PATHWAY_REFERRAL = "pathway_referral"  # referred to a sammenhængende borgerforløb
    REFERRAL_85 = "referral_85"  # referred to Social Vejledning for a § 85 assessment


class FlagDecision(StrEnum):
    """What a person decided about a flag."""

    ACCEPTED = "accepted"  # right for this citizen all the same: it goes on
    DECLINED = "declined"  # not for this citizen: Fronten ends it or finds another offer


def outside_target_group(
    birth_date: dt.date, on: dt.date, state_pension_age: int
) -> TargetGroup | None:
    """The citizen's age and group on `on` when it falls outside the target group (a
    flag is due); None when the citizen is in it."""
    group = target_group(birth_date, on, state_pension_age)
    return None if group.in_target_group else group


def decide_flag(current: str | None, decision: FlagDecision | str) -> FlagDecision:
    """A flag is decided once."""
    if current is not None:
        raise Conflict("flag_id", "flag.already_decided", "This flag is already decided.")
    return FlagDecision(decision)
