"""The urgency order of coordination's worklists, as pure sort keys.

The queries (services.coordination.queries) sort in SQL with the same keys; these
functions are the rule written once in Python, for the reader and the tests. Every key
ends with a unique id, so the order is total and a keyset cursor never skips or
repeats an item.
"""

from __future__ import annotations

import datetime as dt
import uuid


def awaiting_key(under_30: bool | None, waiting_since: dt.datetime,
                 pathway_id: uuid.UUID) -> tuple[int, dt.datetime, uuid.UUID]:
    """Coordinators' list: citizens under 30 first (Plads til alle prioritises them),
    then the longest waiting (the earliest referral) first. Unknown age counts as not
    under 30."""
    return (0 if under_30 else 1, waiting_since, pathway_id)


def my_pathway_key(is_tovholder: bool, opened_at: dt.datetime,
                   pathway_id: uuid.UUID) -> tuple[int, dt.datetime, uuid.UUID]:
    """My pathways: those I lead first, then the oldest."""
    return (0 if is_tovholder else 1, opened_at, pathway_id)


def meeting_key(starts_at: dt.datetime, meeting_id: uuid.UUID) -> tuple[dt.datetime, uuid.UUID]:
    """My meetings: the soonest first."""
    return (starts_at, meeting_id)


def action_key(due_on: dt.date, row_id: int) -> tuple[dt.date, int]:
    """My actions: the oldest due date (the most overdue) first."""
    return (due_on, row_id)


def housing_key(priority: int, sort_deadline: dt.datetime,
                case_id: uuid.UUID) -> tuple[int, dt.datetime, uuid.UUID]:
    """Housing alerts: by priority (services.coordination.housing_alerts), then the
    nearest deadline."""
    return (priority, sort_deadline, case_id)


def handoff_key(attention_since: dt.datetime, handoff_id: uuid.UUID) -> tuple[dt.datetime,
                                                                              uuid.UUID]:
    """Hand-offs needing my attention: the longest waiting (declined or escalated the
    earliest) first."""
    return (attention_since, handoff_id)
