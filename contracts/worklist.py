"""The shape every worklist shares: its arguments (cursor, limit) and its page of items.

A worklist RPC's arguments subclass `WorklistArgs` and add the list's own filters; its
result is a `WorklistPage`. Each item says what it is, why it is on the list (a stable
code and a Danish sentence for the screen), and by when (`due_on`, `days_left`,
`overdue`). `details` holds the list's own fields (documented per list).

Pages are read with the opaque `next_cursor` until it is null; a cursor stays valid
while items are added (services.common.worklist).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.actor import actor_field
from contracts.fields import UTCDateTime

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class WorklistArgs(Schema):
    actor = actor_field()
    cursor = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=2000))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, strict=True,
                           validate=validate.Range(min=1, max=MAX_LIMIT))


class WorklistItemSchema(Schema):
    kind = fields.String(required=True)  # what the item is, e.g. "follow_up_due"
    subject_type = fields.String(required=True)  # inquiry, course, pathway, case, ...
    subject_id = fields.String(required=True)
    citizen_ref = fields.String(allow_none=True)
    reason_code = fields.String(required=True)
    reason = fields.String(required=True)  # in Danish, for the screen
    due_on = fields.Date(allow_none=True)  # a Copenhagen day
    due_at = UTCDateTime(allow_none=True)
    days_left = fields.Integer(allow_none=True)  # negative when overdue
    overdue = fields.Boolean(required=True)
    details = fields.Dict(keys=fields.String(), required=True)


class WorklistPage(Schema):
    items = fields.List(fields.Nested(WorklistItemSchema), required=True)
    # Give it back as `cursor` for the next page; null on the last page.
    next_cursor = fields.String(allow_none=True, required=True)
