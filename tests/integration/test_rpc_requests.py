"""An RPC request recorded with its first commit (services.common.rpc): the same request
delivered again writes nothing; its id is forgotten after a day. On SQLite and
PostgreSQL, through the kit's Store as a service's RPC worker gets it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from contracts.actor import Actor, ActorKind, StaffRole
from contracts.vocabulary import Channel, InquirerKind, Topic
from services.common.clock import FixedClock
from services.common.db import DuplicateRequest, Store, make_engine
from services.common.migrate import upgrade
from services.common.outbox import forget_old_rpc_requests
from services.intake import handlers
from services.intake.models import Inquiry, metadata

pytestmark = pytest.mark.integration

FRONTEN = Actor(ActorKind.STAFF, "anne", roles=[StaffRole.FRONTEN])
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def _register(store: Store) -> dict:
    with store.unit_of_work() as uow:
        return handlers.register_inquiry(
            uow, channel=Channel.PHONE, inquirer_kind=InquirerKind.CITIZEN,
            topics=[Topic.ECONOMY], wish="Hjælp til regninger", citizen_ref=None,
            registered_at=None, registered_by=FRONTEN)


def test_a_request_delivered_again_writes_nothing_and_is_forgotten_after_a_day(db_url):
    upgrade("intake", db_url)
    engine = make_engine(db_url)
    store = Store(engine, metadata, "intake", FixedClock(NOW))
    rpc_requests = metadata.tables["rpc_requests"]

    def counts() -> tuple[int, int, int]:
        with engine.connect() as conn:
            return (conn.scalar(select(func.count()).select_from(Inquiry)) or 0,
                    conn.scalar(select(func.count()).select_from(metadata.tables["outbox"]))
                    or 0,
                    conn.scalar(select(func.count()).select_from(rpc_requests)) or 0)

    _register(store.for_request("req-1"))
    assert counts() == (1, 1, 1)
    with pytest.raises(DuplicateRequest):
        _register(store.for_request("req-1"))  # the broker delivered it again
    assert counts() == (1, 1, 1)
    _register(store.for_request("req-2"))  # another request does its work
    _register(store)  # not an RPC (a timer, a consumer): nothing recorded
    assert counts() == (3, 3, 2)

    assert forget_old_rpc_requests(engine, metadata, NOW + dt.timedelta(hours=23)) == 0
    assert forget_old_rpc_requests(engine, metadata, NOW + dt.timedelta(hours=25)) == 2
    assert counts() == (3, 3, 0)
    engine.dispose()
