"""Reading busy blocks from a team member's iCalendar feed."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import DomainError
from services.coordination import icalfeed
from services.coordination.icalfeed import IgnoredReason, import_busy_blocks
from services.coordination.scheduling import (
    COPENHAGEN,
    MeetingRole,
    Participant,
    WorkingHours,
    propose_slots,
)

WINDOW = {
    "window_start": dt.datetime(2025, 3, 1, tzinfo=COPENHAGEN),
    "window_end": dt.datetime(2025, 7, 1, tzinfo=COPENHAGEN),
}


def feed(*events: str) -> str:
    """A calendar holding `events` (property lines separated by newlines), CRLF as sent."""
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Samspil test//DA\n{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=COPENHAGEN)


def spans(result: icalfeed.FeedImport) -> list[tuple[str, str]]:
    return [(f"{b.start:%Y-%m-%d %H:%M}", f"{b.end:%Y-%m-%d %H:%M}") for b in result.blocks]


def test_utc_times_become_copenhagen_time_in_summer_and_winter() -> None:
    result = import_busy_blocks(
        feed(
            "UID:a\nDTSTART:20250602T070000Z\nDTEND:20250602T080000Z",
            "UID:b\nDTSTART:20250303T070000Z\nDTEND:20250303T080000Z",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2025-03-03 08:00", "2025-03-03 09:00"),
        ("2025-06-02 09:00", "2025-06-02 10:00"),
    ]
    assert all(block.start.tzinfo is COPENHAGEN for block in result.blocks)


def test_other_zones_and_floating_times() -> None:
    result = import_busy_blocks(
        feed(
            "UID:ny\nDTSTART;TZID=America/New_York:20250602T090000\nDURATION:PT30M",
            "UID:floating\nDTSTART:20250603T090000\nDTEND:20250603T100000",
            "UID:cph\nDTSTART;TZID=Europe/Copenhagen:20250604T090000\n"
            "DTEND;TZID=Europe/Copenhagen:20250604T100000",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2025-06-02 15:00", "2025-06-02 15:30"),
        ("2025-06-03 09:00", "2025-06-03 10:00"),
        ("2025-06-04 09:00", "2025-06-04 10:00"),
    ]


def test_all_day_events_are_busy_the_whole_day_with_exclusive_end() -> None:
    result = import_busy_blocks(
        feed(
            "UID:course\nDTSTART;VALUE=DATE:20250610\nDTEND;VALUE=DATE:20250612",
            "UID:oneday\nDTSTART;VALUE=DATE:20250616",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2025-06-10 00:00", "2025-06-12 00:00"),
        ("2025-06-16 00:00", "2025-06-17 00:00"),
    ]


def test_transparent_and_cancelled_events_are_not_busy() -> None:
    result = import_busy_blocks(
        feed(
            "UID:free\nDTSTART:20250602T070000Z\nDTEND:20250602T080000Z\nTRANSP:TRANSPARENT",
            "UID:off\nDTSTART:20250602T090000Z\nDTEND:20250602T100000Z\nSTATUS:CANCELLED",
            "UID:kept\nDTSTART:20250602T110000Z\nDTEND:20250602T120000Z\nTRANSP:OPAQUE",
        ),
        **WINDOW,
    )

    assert [block.ref for block in result.blocks] == ["kept"]
    assert {(e.uid, e.reason) for e in result.ignored} == {
        ("free", IgnoredReason.TRANSPARENT),
        ("off", IgnoredReason.CANCELLED),
    }


def test_timed_event_without_end_takes_no_time() -> None:
    result = import_busy_blocks(feed("UID:reminder\nDTSTART:20250602T070000Z"), **WINDOW)

    assert result.blocks == ()
    assert result.ignored[0].reason == IgnoredReason.NO_DURATION


def test_only_blocks_inside_the_window_are_returned() -> None:
    result = import_busy_blocks(
        feed(
            "UID:before\nDTSTART:20250101T070000Z\nDTEND:20250101T080000Z",
            "UID:across\nDTSTART:20250228T220000Z\nDTEND:20250301T010000Z",
            "UID:after\nDTSTART:20250801T070000Z\nDTEND:20250801T080000Z",
        ),
        **WINDOW,
    )

    assert [block.ref for block in result.blocks] == ["across"]


def test_nothing_but_times_is_kept() -> None:
    result = import_busy_blocks(
        feed(
            "UID:x\nSUMMARY:Lægebesøg\nLOCATION:Psykiatrisk klinik\n"
            "DTSTART:20250602T070000Z\nDTEND:20250602T080000Z"
        ),
        **WINDOW,
    )

    assert "Lægebesøg" not in repr(result)
    assert "Psykiatrisk" not in repr(result)


def test_weekly_rule_keeps_wall_clock_time_over_dst_and_honours_exdate_and_until() -> None:
    result = import_busy_blocks(
        feed(
            "UID:team\n"
            "DTSTART;TZID=Europe/Copenhagen:20250317T090000\n"
            "DTEND;TZID=Europe/Copenhagen:20250317T100000\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250414T070000Z\n"
            "EXDATE;TZID=Europe/Copenhagen:20250407T090000"
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2025-03-17 09:00", "2025-03-17 10:00"),
        ("2025-03-24 09:00", "2025-03-24 10:00"),
        ("2025-03-31 09:00", "2025-03-31 10:00"),  # summer time: still 09:00 local
        ("2025-04-14 09:00", "2025-04-14 10:00"),
    ]


def test_moved_and_cancelled_occurrences_replace_the_rule() -> None:
    result = import_busy_blocks(
        feed(
            "UID:sft\nDTSTART;TZID=Europe/Copenhagen:20250602T130000\n"
            "DTEND;TZID=Europe/Copenhagen:20250602T140000\nRRULE:FREQ=DAILY;COUNT=3",
            "UID:sft\nRECURRENCE-ID;TZID=Europe/Copenhagen:20250603T130000\n"
            "DTSTART;TZID=Europe/Copenhagen:20250603T150000\n"
            "DTEND;TZID=Europe/Copenhagen:20250603T160000",
            "UID:sft\nRECURRENCE-ID;TZID=Europe/Copenhagen:20250604T130000\n"
            "DTSTART;TZID=Europe/Copenhagen:20250604T130000\n"
            "DTEND;TZID=Europe/Copenhagen:20250604T140000\nSTATUS:CANCELLED",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2025-06-02 13:00", "2025-06-02 14:00"),
        ("2025-06-03 15:00", "2025-06-03 16:00"),
    ]


def test_endless_rule_is_expanded_only_inside_the_window() -> None:
    result = import_busy_blocks(
        feed(
            "UID:standup\nDTSTART;TZID=Europe/Copenhagen:20200106T083000\n"
            "DTEND;TZID=Europe/Copenhagen:20200106T084500\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE"
        ),
        window_start=local("2025-06-02T00:00"),
        window_end=local("2025-06-09T00:00"),
    )

    assert spans(result) == [
        ("2025-06-02 08:30", "2025-06-02 08:45"),
        ("2025-06-04 08:30", "2025-06-04 08:45"),
    ]


def test_all_day_rule_and_date_until() -> None:
    result = import_busy_blocks(
        feed("UID:camp\nDTSTART;VALUE=DATE:20250616\nRRULE:FREQ=DAILY;UNTIL=20250618"), **WINDOW
    )

    assert [b.start.date().isoformat() for b in result.blocks] == [
        "2025-06-16",
        "2025-06-17",
        "2025-06-18",
    ]


def test_runaway_rule_is_cut_short_and_reported() -> None:
    result = import_busy_blocks(
        feed("UID:tick\nDTSTART:20000101T000000Z\nDTEND:20000101T000100Z\nRRULE:FREQ=MINUTELY"),
        **WINDOW,
    )

    assert result.blocks == ()
    assert result.ignored[0].reason == IgnoredReason.RECURRENCE_TOO_LONG


def test_without_dateutil_only_the_first_occurrence_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(icalfeed, "_RRULE", None)

    result = import_busy_blocks(
        feed(
            "UID:weekly\nDTSTART:20250602T070000Z\nDTEND:20250602T080000Z\n"
            "RRULE:FREQ=WEEKLY;COUNT=4"
        ),
        **WINDOW,
    )

    assert spans(result) == [("2025-06-02 09:00", "2025-06-02 10:00")]
    assert result.recurrence_expanded is False
    assert result.ignored[0].reason == IgnoredReason.RECURRENCE_NOT_EXPANDED


def test_bytes_and_several_calendars_are_read() -> None:
    text = feed("UID:a\nDTSTART:20250602T070000Z\nDTEND:20250602T080000Z") + feed(
        "UID:b\nDTSTART:20250603T070000Z\nDTEND:20250603T080000Z"
    )

    result = import_busy_blocks(text.encode(), **WINDOW)

    assert [block.ref for block in result.blocks] == ["a", "b"]


@pytest.mark.parametrize("text", ["<html><body>Log ind</body></html>", ""])
def test_text_that_is_not_icalendar_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as error:
        import_busy_blocks(text, **WINDOW)

    assert (error.value.field, error.value.rule) == ("calendar", "ical.unreadable")


def test_window_must_be_aware() -> None:
    with pytest.raises(DomainError) as error:
        import_busy_blocks(
            feed(), window_start=dt.datetime(2025, 6, 1), window_end=dt.datetime(2025, 6, 2)
        )

    assert error.value.rule == "time.timezone_missing"


def test_imported_blocks_steer_the_slot_search() -> None:
    calendar = import_busy_blocks(
        feed(
            "UID:morning\nDTSTART;TZID=Europe/Copenhagen:20250602T080000\n"
            "DTEND;TZID=Europe/Copenhagen:20250602T113000"
        ),
        **WINDOW,
    )
    team = [
        Participant(
            "lise",
            MeetingRole.TOVHOLDER,
            working_hours=WorkingHours.standard(),
            busy=calendar.blocks,
        ),
        Participant("vincent", MeetingRole.CITIZEN),
    ]

    proposals = propose_slots(
        team, dt.timedelta(hours=1), local("2025-06-02T00:00"), local("2025-06-03T00:00"), limit=1
    )

    assert proposals[0].start == local("2025-06-02T11:30")
