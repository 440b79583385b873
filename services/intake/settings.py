"""intake's settings, read once from the service configuration. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.intake.courses import CourseSettings
from services.intake.cpr import DEFAULT_STATE_PENSION_AGE
from services.intake.protection import CprProtection, KeysMissing

DEFAULT_SWEEP_SECONDS = 30.0
# Social Vejledning's answer to a § 85 referral is expected within this many working
# days (hverdage). DOMAIN.md: "an unanswered hand-off is escalated ... after a set
# number of working days"; no law fixes it, so it is a setting.
DEFAULT_REFERRAL_85_ANSWER_WORKING_DAYS = 10

# config key -> CourseSettings field
COURSE_KEYS = {
    "COURSE_INDIVIDUAL_MAX_MONTHS": "individual_max_months",
    "COURSE_SFT_MONTHS": "sft_months",
    "COURSE_GROUP_MAX_MONTHS": "group_max_months",
    "COURSE_BROKEN_AGREEMENT_WINDOW_DAYS": "broken_agreement_window_days",
    "COURSE_BRIDGING_LEAD_MONTHS": "bridging_lead_months",
    "COURSE_REVIEW_LEAD_DAYS": "review_lead_days",
    "COURSE_REVIEW_REQUIRED_BEFORE_END": "review_required_before_end",
}


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class IntakeSettings:
    course: CourseSettings = field(default_factory=CourseSettings)
    state_pension_age: int = DEFAULT_STATE_PENSION_AGE
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS
    referral_85_answer_working_days: int = DEFAULT_REFERRAL_85_ANSWER_WORKING_DAYS

    def __post_init__(self) -> None:
        if self.referral_85_answer_working_days < 1:
            raise ValueError("referral_85_answer_working_days must be at least 1")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IntakeSettings:
        """Every key is optional; an empty value means the default."""
        values: dict[str, Any] = {}
        for key, name in COURSE_KEYS.items():
            raw = config.get(key)
            if raw is None or raw == "":
                continue
            values[name] = _boolean(raw) if name == "review_required_before_end" else int(raw)
        return cls(
            course=CourseSettings(**values),
            state_pension_age=int(config.get("STATE_PENSION_AGE") or DEFAULT_STATE_PENSION_AGE),
            sweep_seconds=float(config.get("INTAKE_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS),
            referral_85_answer_working_days=int(
                config.get("REFERRAL_85_ANSWER_WORKING_DAYS")
                or DEFAULT_REFERRAL_85_ANSWER_WORKING_DAYS
            ),
        )


def settings_to_json(settings: CourseSettings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def settings_from_json(data: Mapping[str, Any]) -> CourseSettings:
    known = {f.name for f in dataclasses.fields(CourseSettings)}
    return CourseSettings(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class IntakeContext:
    """What intake's use cases need besides the unit of work: settings and CPR keys."""

    settings: IntakeSettings
    cpr_protection: CprProtection | None = None

    @property
    def protection(self) -> CprProtection:
        if self.cpr_protection is None:
            raise KeysMissing(
                "CPR_HASH_KEY and CPR_ENCRYPTION_KEY are not configured: intake cannot "
                "handle CPR numbers (see deploy/config/intake.yaml)"
            )
        return self.cpr_protection
