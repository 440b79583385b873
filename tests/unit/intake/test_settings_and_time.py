"""intake's settings from config, and Copenhagen days against the UTC clock."""

import datetime as dt

import pytest

from services.common.localtime import local_day, start_of_local_day
from services.intake.courses import CourseSettings
from services.intake.settings import IntakeSettings, settings_from_json, settings_to_json

UTC = dt.UTC


def test_defaults_are_the_service_level() -> None:
    settings = IntakeSettings.from_config({})
    assert settings.course == CourseSettings()
    assert settings.course.individual_max_months == 6
    assert (settings.state_pension_age, settings.sweep_seconds) == (67, 30.0)


def test_every_course_number_is_a_setting() -> None:
    settings = IntakeSettings.from_config(
        {
            "COURSE_INDIVIDUAL_MAX_MONTHS": "5",
            "COURSE_SFT_MONTHS": 8,
            "COURSE_GROUP_MAX_MONTHS": 4,
            "COURSE_BROKEN_AGREEMENT_WINDOW_DAYS": 21,
            "COURSE_BRIDGING_LEAD_MONTHS": 1,
            "COURSE_REVIEW_LEAD_DAYS": 14,
            "COURSE_REVIEW_REQUIRED_BEFORE_END": "false",
            "STATE_PENSION_AGE": 68,
            "INTAKE_SWEEP_SECONDS": "0.5",
        }
    )
    assert settings.course == CourseSettings(5, 8, 4, 21, 1, 14, False)
    assert (settings.state_pension_age, settings.sweep_seconds) == (68, 0.5)


def test_nonsense_settings_stop_the_service() -> None:
    with pytest.raises(ValueError, match="individual_max_months"):
        IntakeSettings.from_config({"COURSE_INDIVIDUAL_MAX_MONTHS": 0})


def test_a_courses_settings_survive_storage() -> None:
    settings = CourseSettings(individual_max_months=5, group_max_months=3)
    assert settings_from_json(settings_to_json(settings)) == settings
    # A setting added later does not break an older stored course, nor an unknown one.
    assert settings_from_json({"sft_months": 9, "retired": 1}) == CourseSettings()


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (dt.datetime(2018, 5, 8, 21, 59, tzinfo=UTC), dt.date(2018, 5, 8)),  # CEST
        (dt.datetime(2018, 5, 8, 22, 0, tzinfo=UTC), dt.date(2018, 5, 9)),
        (dt.datetime(2018, 1, 8, 22, 59, tzinfo=UTC), dt.date(2018, 1, 8)),  # CET
        (dt.datetime(2018, 1, 8, 23, 0, tzinfo=UTC), dt.date(2018, 1, 9)),
    ],
)
def test_the_day_is_copenhagens(moment, day) -> None:
    assert local_day(moment) == day


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (dt.date(2018, 3, 25), dt.datetime(2018, 3, 24, 23, 0, tzinfo=UTC)),  # switch day
        (dt.date(2018, 3, 26), dt.datetime(2018, 3, 25, 22, 0, tzinfo=UTC)),
        (dt.date(2018, 10, 28), dt.datetime(2018, 10, 27, 22, 0, tzinfo=UTC)),
        (dt.date(2018, 10, 29), dt.datetime(2018, 10, 28, 23, 0, tzinfo=UTC)),
    ],
)
def test_a_day_starts_at_copenhagen_midnight_across_the_summer_time_switch(day, utc) -> None:
    assert start_of_local_day(day) == utc
    assert local_day(utc) == day
    assert local_day(utc - dt.timedelta(seconds=1)) == day - dt.timedelta(days=1)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        local_day(dt.datetime(2018, 5, 8, 12, 0))
