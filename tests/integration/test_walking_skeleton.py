"""The walking skeleton: intake.inquiry_registered travels from intake's outbox,
through RabbitMQ, into coordination's inbox, and its effect lands in coordination's
database. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets
import uuid

import pytest
from cryptography.fernet import Fernet
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, text

from services.common.db import make_engine
from services.common.migrate import upgrade
from services.coordination.models import CitizenActivity
from services.coordination.service import CoordinationService
from services.intake.service import IntakeService
from tests.conftest import service_config
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

# Who acts: a member of Fronten's staff, as the gateway passes a signed-in user.
FRONTEN = {"kind": "staff", "id": "fronten-test", "roles": ["fronten"]}


@pytest.fixture
def system(amqp_uri, db_url_factory, runner_factory):
    urls = {"intake": db_url_factory("intake"), "coordination": db_url_factory("coordination")}
    for service, url in urls.items():
        upgrade(service, url)
    # CPR keys: intake registers the citizen the inquiry is about (it refuses an
    # inquiry for a citizen_ref it does not know).
    config = service_config(amqp_uri, urls, CPR_HASH_KEY=secrets.token_urlsafe(48),
                            CPR_ENCRYPTION_KEY=Fernet.generate_key().decode("ascii"))
    runner = runner_factory(config, IntakeService, CoordinationService)
    runner.start()
    return config, urls


def activity_rows(url: str) -> list[CitizenActivity]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(CitizenActivity.__table__)).all())
    finally:
        engine.dispose()


def test_inquiry_reaches_coordination_through_outbox_broker_and_inbox(system):
    config, urls = system
    with ClusterRpcProxy(config) as cluster:
        citizen_ref = uuid.UUID(cluster.intake.register_citizen(
            actor=FRONTEN, cpr="150395-1234", name="Mikkel Hansen",
            preferred_channel="letter")["citizen_ref"])
        result = cluster.intake.register_inquiry(
            actor=FRONTEN,
            channel="walk_in",
            inquirer_kind="citizen",
            topics=["housing", "economy"],
            wish="Jeg vil gerne have styr på huslejen.",
            citizen_ref=str(citizen_ref),
        )

    rows = wait_for(lambda: activity_rows(urls["coordination"]), what="coordination effect")
    assert len(rows) == 1
    row = rows[0]
    assert row.citizen_ref == citizen_ref
    assert row.kind == "inquiry_registered"
    assert row.details == {
        "inquiry_id": result["inquiry_id"],
        "channel": "walk_in",
        "topics": ["housing", "economy"],
    }

    engine = make_engine(urls["intake"])
    with engine.connect() as conn:
        outbox = conn.execute(text("select message_id, sent_at, body from outbox")).all()
    engine.dispose()
    engine = make_engine(urls["coordination"])
    with engine.connect() as conn:  # closed at once: an open SQLite reader blocks writers
        inbox = conn.execute(text("select consumer, message_id from inbox")).all()
    engine.dispose()
    assert len(outbox) == 1 and outbox[0].sent_at is not None
    envelope = json.loads(outbox[0].body)
    # What left intake carries no free text and no identity beyond the citizen_ref.
    assert "wish" not in envelope["payload"]
    assert row.source_message_id == uuid.UUID(envelope["message_id"])
    assert inbox == [("coordination.on_intake_inquiry_registered", envelope["message_id"])]


def test_bad_input_names_fields_and_writes_nothing(system):
    config, urls = system
    with ClusterRpcProxy(config) as cluster, pytest.raises(RemoteError) as err:
        cluster.intake.register_inquiry(
            actor=FRONTEN,
            channel="fax",
            inquirer_kind="citizen",
            topics=[],
            wish="x",
            cpr="0101901234",
        )
    assert err.value.exc_type == "InvalidInput"
    problems = {e["field"]: e for e in json.loads(err.value.value)["errors"]}
    assert set(problems) == {"channel", "topics", "cpr"}
    engine = make_engine(urls["intake"])
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from inquiries")).scalar_one() == 0
        assert conn.execute(text("select count(*) from outbox")).scalar_one() == 0
    engine.dispose()
