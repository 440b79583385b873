"""Idempotency keys: a state-changing request sent twice does its work once.

The first request with a key claims it (an INSERT: of two concurrent requests, one
wins); when it is done, what it led to is stored with the key. A second request with
the same key gets that answer instead of doing the work again. Keys are kept 24 hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from services.common.db import Store
from services.gateway.models import IdempotencyKey

KEEP = dt.timedelta(hours=24)


class FormSubmissions:
    """The web app's forms (services.web.app.Submissions), kept in the gateway's database."""

    def __init__(self, store: Store, now: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.now = now

    def claim(self, key: str, principal: str) -> tuple[bool, str | None]:
        now = self.now()
        with self.store.unit_of_work() as uow:
            uow.session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP))
            found = uow.session.get(IdempotencyKey, key)
            if found is not None:
                return False, found.location
            uow.session.add(IdempotencyKey(key_hash=key, principal=principal, created_at=now))
            try:
                uow.commit()
            except IntegrityError:  # the same form, sent at the same moment: it won
                return False, None
        return True, None

    def complete(self, key: str, location: str) -> None:
        with self.store.unit_of_work() as uow:
            uow.session.execute(
                update(IdempotencyKey).where(IdempotencyKey.key_hash == key)
                .values(location=location[:500], status=303, completed_at=self.now()))
            uow.commit()

    def release(self, key: str) -> None:
        with self.store.unit_of_work() as uow:
            uow.session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.key_hash == key, IdempotencyKey.status.is_(None)))
            uow.commit()
