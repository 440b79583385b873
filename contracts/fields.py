"""Field types shared by every contract."""

from __future__ import annotations

import datetime as dt
from enum import Enum as PyEnum
from typing import Any

from marshmallow import fields


class UTCDateTime(fields.DateTime):
    """A timezone-aware datetime, always serialised in UTC; naive input is refused."""

    default_error_messages = {  # noqa: RUF012
        "naive": "Must include a timezone (UTC offset).",
        "out_of_range": "Out of range once converted to UTC.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise self.make_error("naive")
        try:
            return result.astimezone(dt.UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00
            raise self.make_error("out_of_range") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):  # already wire form: check it, keep it in UTC
            value = self._deserialize(value, attr, obj)
        if value.tzinfo is None:
            raise ValueError("naive datetime; use a timezone-aware (UTC) datetime")
        text = super()._serialize(value.astimezone(dt.UTC), attr, obj, **kwargs)
        return None if text is None else str(text)


class Enum(fields.Enum):
    """An enum carried by value; producers may hand over the member or its value."""

    def __init__(self, enum: type[PyEnum], **kwargs: Any) -> None:
        super().__init__(enum, by_value=True, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is not None and not isinstance(value, self.enum):
            value = self.enum(value)  # ValueError for an unknown value names the field
        return super()._serialize(value, attr, obj, **kwargs)
