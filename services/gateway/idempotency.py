"""Idempotency keys: a state-changing request sent twice does its work once.

The first request with a key claims it (an INSERT: of two concurrent requests, one
wins); when it is done, what it led to is stored with the key. A second request with
the same key gets that answer instead of doing the work again. Keys are kept 24 hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Claim:
    """What a request with an `Idempotency-Key` found: `new` (go ahead), `replay` (the
    first answer, stored), `mismatch` (the key was used for another body), or `busy`
    (the first request with it is still under way)."""

    outcome: str
    status: int | None = None
    body: str | None = None


def api_key_hash(principal: str, key: str, method: str, path: str) -> str:
    """A key counts within its caller and its target: the same key sent by two clients,
    or to two routes, are two keys."""
    return hashlib.sha256("\x1f".join((principal, method, path, key)).encode()).hexdigest()


class ApiIdempotency:
    """The API's `Idempotency-Key` header (IETF httpapi draft): the same key with the
    same body replays the first answer; with another body it is a 422; keys are kept
    24 hours. A 5xx answer is not kept, so a retry with the key does the work."""

    def __init__(self, store: Store, now: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.now = now

    def claim(self, key_hash: str, principal: str, body: bytes) -> Claim:
        digest = hashlib.sha256(body).hexdigest()
        now = self.now()
        with self.store.unit_of_work() as uow:
            uow.session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP))
            found = uow.session.get(IdempotencyKey, key_hash)
            if found is None:
                uow.session.add(IdempotencyKey(key_hash=key_hash, principal=principal,
                                               body_sha256=digest, created_at=now))
                try:
                    uow.commit()
                except IntegrityError:  # the same key at the same moment: it is under way
                    return Claim("busy")
                return Claim("new")
            if found.body_sha256 != digest:
                return Claim("mismatch")
            if found.status is None:
                return Claim("busy")
            return Claim("replay", found.status, found.response)

    def complete(self, key_hash: str, status: int, body: str) -> None:
        with self.store.unit_of_work() as uow:
            if status >= 500:
                uow.session.execute(delete(IdempotencyKey).where(
                    IdempotencyKey.key_hash == key_hash))
            else:
                uow.session.execute(
                    update(IdempotencyKey).where(IdempotencyKey.key_hash == key_hash)
                    .values(status=status, response=body, completed_at=self.now()))
            uow.commit()
