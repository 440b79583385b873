"""Recurring events in staff calendar feeds, expanded with recurring-ical-events.

`recurring_series.ics` is a feed as Outlook publishes it ("Romance Standard Time"
with its VTIMEZONE): a weekly team meeting with an EXDATE, one occurrence moved to
another day (RECURRENCE-ID) and a "this and following" edit (RECURRENCE-ID with
RANGE=THISANDFUTURE) that moves the rest of the series and makes it longer; a one-off
appointment in UTC; and a daily lunch shown as free.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from services.coordination.icalfeed import (
    FeedImport,
    IgnoredEvent,
    IgnoredReason,
    import_busy_blocks,
)
from services.coordination.scheduling import (
    COPENHAGEN,
    MeetingRole,
    Participant,
    WorkingHours,
    propose_slots,
)

FEED = Path(__file__).with_name("recurring_series.ics")
SERIES = "040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6@samspil-test"
DENTIST = "tandlaege-2021-04-07@samspil-test"
LUNCH = "frokost@samspil-test"
# Monday 1 March 2021, 08:00 in Copenhagen, and ten weeks on (summer time from 28 March).
WINDOW = {
    "window_start": dt.datetime(2021, 3, 1, 8, tzinfo=COPENHAGEN),
    "window_end": dt.datetime(2021, 5, 10, 8, tzinfo=COPENHAGEN),
}

# Every busy time in the window, Copenhagen wall clock.
EXPECTED = [
    ("2021-03-01 09:00", "2021-03-01 10:00", SERIES),
    ("2021-03-08 09:00", "2021-03-08 10:00", SERIES),
    # 15 March: EXDATE
    ("2021-03-23 13:00", "2021-03-23 14:30", SERIES),  # 22 March moved to Tuesday
    ("2021-03-29 09:00", "2021-03-29 10:00", SERIES),  # summer time: still 09:00 local
    ("2021-04-05 09:00", "2021-04-05 10:00", SERIES),
    ("2021-04-07 14:00", "2021-04-07 15:00", DENTIST),  # 12:00 UTC
    # this and following: from 12 April 10:30-12:00, up to the rule's UNTIL (3 May)
    ("2021-04-12 10:30", "2021-04-12 12:00", SERIES),
    ("2021-04-19 10:30", "2021-04-19 12:00", SERIES),
    ("2021-04-26 10:30", "2021-04-26 12:00", SERIES),
    ("2021-05-03 10:30", "2021-05-03 12:00", SERIES),
]


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=COPENHAGEN)


def spans(result: FeedImport) -> list[tuple[str, str, str | None]]:
    return [(f"{b.start:%Y-%m-%d %H:%M}", f"{b.end:%Y-%m-%d %H:%M}", b.ref) for b in result.blocks]


def calendar(*events: str, header: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    text = (
        f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Samspil test//DA\n{header}{body}"
        "END:VCALENDAR\n"
    )
    return text.replace("\n", "\r\n")


def test_an_outlook_series_with_exdate_a_moved_occurrence_and_this_and_following_edit() -> None:
    result = import_busy_blocks(FEED.read_bytes(), **WINDOW)

    assert spans(result) == EXPECTED
    assert all(block.start.tzinfo is COPENHAGEN for block in result.blocks)
    assert result.recurrence_expanded
    assert result.ignored == (IgnoredEvent(LUNCH, IgnoredReason.TRANSPARENT),)


def test_the_window_cuts_the_series() -> None:
    result = import_busy_blocks(
        FEED.read_bytes(),
        window_start=local("2021-04-12T11:00"),
        window_end=local("2021-04-26T11:00"),
    )

    assert spans(result) == [
        ("2021-04-12 10:30", "2021-04-12 12:00", SERIES),  # overlaps the window's start
        ("2021-04-19 10:30", "2021-04-19 12:00", SERIES),
        ("2021-04-26 10:30", "2021-04-26 12:00", SERIES),  # overlaps the window's end
    ]


def test_the_moved_rest_of_the_series_steers_the_slot_search() -> None:
    lars = Participant(
        "lars",
        MeetingRole.TOVHOLDER,
        working_hours=WorkingHours.standard(),
        busy=import_busy_blocks(FEED.read_bytes(), **WINDOW).blocks,
    )
    team = [lars, Participant("vincent", MeetingRole.CITIZEN)]

    proposals = propose_slots(
        team,
        dt.timedelta(hours=1),
        local("2021-04-19T09:00"),
        local("2021-04-19T13:00"),
        limit=10,
    )

    # 09:00-10:00 is free now that the meeting has moved; 10:30-12:00 is not
    assert [p.start for p in proposals] == [
        local("2021-04-19T09:00"),
        local("2021-04-19T09:15"),
        local("2021-04-19T09:30"),
        local("2021-04-19T12:00"),
    ]


def test_a_this_and_following_edit_that_shows_the_rest_as_free() -> None:
    result = import_busy_blocks(
        calendar(
            "UID:mentor\nDTSTART;TZID=Europe/Copenhagen:20210301T140000\n"
            "DTEND;TZID=Europe/Copenhagen:20210301T150000\nRRULE:FREQ=WEEKLY;COUNT=4",
            "UID:mentor\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Copenhagen:20210315T140000\n"
            "DTSTART;TZID=Europe/Copenhagen:20210315T140000\n"
            "DTEND;TZID=Europe/Copenhagen:20210315T150000\nTRANSP:TRANSPARENT",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2021-03-01 14:00", "2021-03-01 15:00", "mentor"),
        ("2021-03-08 14:00", "2021-03-08 15:00", "mentor"),
    ]
    assert result.ignored == (IgnoredEvent("mentor", IgnoredReason.TRANSPARENT),)


def test_google_times_in_utc_recur_in_the_calendars_own_zone() -> None:
    """Google publishes UTC times with X-WR-TIMEZONE: the meeting stays at 09:00 local
    after the switch to summer time instead of moving to 10:00."""
    result = import_busy_blocks(
        calendar(
            "UID:g1@google.com\nDTSTART:20210322T080000Z\nDTEND:20210322T090000Z\n"
            "RRULE:FREQ=WEEKLY;COUNT=3;BYDAY=MO",
            header="X-WR-TIMEZONE:Europe/Copenhagen\n",
        ),
        **WINDOW,
    )

    assert spans(result) == [
        ("2021-03-22 09:00", "2021-03-22 10:00", "g1@google.com"),
        ("2021-03-29 09:00", "2021-03-29 10:00", "g1@google.com"),
        ("2021-04-05 09:00", "2021-04-05 10:00", "g1@google.com"),
    ]


def test_a_broken_series_is_reported_and_spoils_no_other() -> None:
    result = import_busy_blocks(
        calendar(
            "UID:broken\nDTSTART:20210302T080000Z\nDTEND:20210302T090000Z\nRRULE:FREQ=SOMETIMES",
            "UID:fine\nDTSTART:20210303T080000Z\nDTEND:20210303T090000Z",
        ),
        **WINDOW,
    )

    assert spans(result) == [("2021-03-03 09:00", "2021-03-03 10:00", "fine")]
    assert result.ignored == (IgnoredEvent("broken", IgnoredReason.UNREADABLE),)
