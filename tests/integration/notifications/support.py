"""Real counterparts for the notifications tests: an SMTP server (aiosmtpd, in its own
process, writing a Maildir), an HTTP receiver on loopback (http.server in a thread)
that answers from a script and, given the subscription's secret, verifies every
signature as a partner would (the `standardwebhooks` library, and docs/webhooks.md's
verifier of the deprecated header; 401 when it fails),
stand-in intake, coordination and partners services on the broker answering
get_contact, get_participant_contact and get_partner from fixed data, and helpers to
publish events and read the ledger and the access log."""

from __future__ import annotations

import datetime as dt
import email
import http.server
import json
import mailbox
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from pathlib import Path
from typing import Any

from nameko.rpc import rpc
from sqlalchemy import select, text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from contracts import registry
from contracts.envelope import Envelope
from services.common.amqp import Publisher, event_exchange
from services.common.db import make_engine
from services.common.messaging import consumer_method_name
from services.common.migrate import upgrade
from services.notifications import signing
from services.notifications.models import DeliveryRow
from services.notifications.service import NotificationsService
from tests.conftest import service_config
from tests.support.net import free_port
from tests.support.waiting import wait_for

# -- SMTP ------------------------------------------------------------------------------


class SmtpServer:
    """aiosmtpd's own server and its Mailbox handler, as a child process."""

    def __init__(self, directory: Path) -> None:
        self.maildir = directory / "maildir"
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
             "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, what="the SMTP server to listen")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def messages(self) -> list[Message]:
        if not self.maildir.exists():
            return []
        box = mailbox.Maildir(str(self.maildir), create=False)
        found = [box.get_message(key) for key in box.iterkeys()]
        return sorted(found, key=lambda m: m.get_date())

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages() if m["To"] == address]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def calendar_part(message: Message) -> bytes | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    return None


def subject(message: Message) -> str:
    # The modern header parser: the legacy decode_header drops the space between an
    # encoded word and the plain text after it (RFC 2047 allows both to be folded).
    return str(email.message_from_bytes(message.as_bytes(), policy=policy.default)["Subject"])


def text_part(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


# -- HTTP ------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified: bool | None = None  # None: the receiver was given no secret

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Answers each POST with the next status in `script` (then `default`). Given a
    `secret` (or during a rotation `secrets`, any of which may match), it first verifies
    the request as a partner would, at its own clock: Standard Webhooks with the
    `standardwebhooks` library (webhook-id, webhook-timestamp, webhook-signature) and the
    deprecated Samspil-Signature with the reference verifier; it answers 401 to a
    request that fails either (as docs/webhooks.md tells partners)."""

    script: list[int] = field(default_factory=list)
    default: int = 200
    requests: list[Request] = field(default_factory=list)
    secret: str | None = None
    secrets: list[str] = field(default_factory=list)

    def accepts(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether a partner holding this receiver's secrets accepts the request."""
        keys = [*self.secrets, *([self.secret] if self.secret else [])]
        standard = False
        for key in keys:
            try:
                hook = Webhook(key)
            except ValueError:  # no base64: keyed by its bytes (docs/webhooks.md)
                hook = Webhook(key.encode())
            try:
                hook.verify(body, headers, json_parse=False)
                standard = True
            except WebhookVerificationError:
                pass
        try:
            legacy = signing.verify([k.encode() for k in keys],
                                    headers.get(signing.SIGNATURE_HEADER), body,
                                    now=int(time.time()))
        except signing.SignatureError:
            legacy = False
        return standard and legacy

    def __post_init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                verified = None
                if receiver.secret is not None or receiver.secrets:
                    verified = receiver.accepts(dict(self.headers.items()), body)
                if verified is False:
                    status = 401
                else:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                receiver.requests.append(
                    Request(self.path, dict(self.headers.items()), body, status, verified)
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- intake and coordination, as stand-in services on the broker ---------------------------


class NotFoundError(Exception):
    """Travels over RPC as the kit's NotFound does: exc_type "NotFoundError"."""


def _not_found(field: str, message: str) -> NotFoundError:
    return NotFoundError(json.dumps({"errors": [
        {"field": field, "rule": "not_found", "message": message}]}))


class FakeIntake:
    """intake.get_contact with fixed answers; unknown citizens -> NotFoundError; while
    `down`, every call fails as a broken intake would."""

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.down = False

    def add(self, citizen_ref: uuid.UUID | str, *, email: str | None = None,
            phone: str | None = None, preferred: str = "email", name: str = "Vincent",
            address: str | None = None) -> None:
        self.contacts[str(citizen_ref)] = {
            "citizen_ref": str(citizen_ref), "name": name, "email": email,
            "phone": phone, "preferred_channel": preferred, "address": address,
        }

    def get_contact(self, *, actor: str, citizen_ref: str, purpose: str) -> dict[str, Any]:
        self.calls.append({"actor": actor, "citizen_ref": citizen_ref, "purpose": purpose})
        if self.down:
            raise RuntimeError("intake's database is down")
        if citizen_ref not in self.contacts:
            raise _not_found("citizen_ref", "Unknown citizen.")
        return dict(self.contacts[citizen_ref])


class FakeCoordination:
    """coordination.get_participant_contact: a network person's contact where the
    citizen agreed that the person is contacted; otherwise NotFoundError, as the real
    one answers. While `down`, every call fails."""

    def __init__(self) -> None:
        self.people: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.down = False

    def add(self, pathway_id: uuid.UUID | str, participant_id: str, *, name: str,
            email: str | None = None, phone: str | None = None,
            may_contact: bool = True) -> None:
        if may_contact:
            self.people[(str(pathway_id), participant_id)] = {
                "participant_id": participant_id, "name": name, "email": email,
                "phone": phone}

    def get_participant_contact(self, *, actor: str, pathway_id: str, participant_id: str,
                                purpose: str) -> dict[str, Any]:
        self.calls.append({"actor": actor, "pathway_id": pathway_id,
                           "participant_id": participant_id, "purpose": purpose})
        if self.down:
            raise RuntimeError("coordination's database is down")
        found = self.people.get((pathway_id, participant_id))
        if found is None:
            raise _not_found("participant_id", "No network person who may be contacted.")
        return dict(found)


class FakePartners:
    """partners.get_partner: the directory's view of a partner (PartnerView's fields),
    unknown partners -> NotFoundError, as the real one answers."""

    def __init__(self) -> None:
        self.partners: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []

    def add(self, partner_id: str, *, name: str, contact_email: str | None,
            category: str = "volunteer") -> None:
        self.partners[partner_id] = {
            "partner_id": partner_id, "name": name, "category": category,
            "contact_name": "Koordinator", "contact_email": contact_email,
            "contact_phone": None, "active": True}

    def get_partner(self, *, actor: str, partner_id: str) -> dict[str, Any]:
        self.calls.append({"actor": actor, "partner_id": partner_id})
        if partner_id not in self.partners:
            raise _not_found("partner_id", "No such partner.")
        return dict(self.partners[partner_id])


def stand_ins(intake: FakeIntake, coordination: FakeCoordination,
              partners: FakePartners) -> tuple[type, type, type]:
    """Real nameko services named "intake", "coordination" and "partners" on the test's
    vhost, answering from the fakes (notifications calls them over the broker, with its
    timeouts, as it calls the real ones)."""

    class IntakeStandIn:
        name = "intake"

        @rpc
        def get_contact(self, actor: str, citizen_ref: str, purpose: str) -> dict[str, Any]:
            return intake.get_contact(actor=actor, citizen_ref=citizen_ref, purpose=purpose)

    class CoordinationStandIn:
        name = "coordination"

        @rpc
        def get_participant_contact(self, actor: str, pathway_id: str, participant_id: str,
                                    purpose: str) -> dict[str, Any]:
            return coordination.get_participant_contact(
                actor=actor, pathway_id=pathway_id, participant_id=participant_id,
                purpose=purpose)

    class PartnersStandIn:
        name = "partners"

        @rpc
        def get_partner(self, actor: str, partner_id: str) -> dict[str, Any]:
            return partners.get_partner(actor=actor, partner_id=partner_id)

    return IntakeStandIn, CoordinationStandIn, PartnersStandIn


# -- the service --------------------------------------------------------------------------


@dataclass
class Running:
    config: dict[str, Any]
    db_url: str
    intake: FakeIntake
    coordination: FakeCoordination
    partners: FakePartners
    publisher: Publisher

    def publish(self, type_: str, payload: dict[str, Any], *,
                correlation_id: str = "test") -> Envelope:
        envelope = registry.build(
            type_, payload, producer=type_.split(".")[0], correlation_id=correlation_id,
            occurred_at=dt.datetime.now(dt.UTC),
        )
        self.publish_raw(type_, envelope.to_wire(), message_id=str(envelope.message_id))
        return envelope

    def publish_raw(self, type_: str, body: Any, *, message_id: str | None = None) -> None:
        self.publisher.publish(
            json.dumps(body).encode() if not isinstance(body, bytes) else body,
            exchange=event_exchange(type_.split(".")[0]),
            routing_key=type_,
            message_id=message_id,
        )

    def deliveries(self, **where: Any) -> list[DeliveryRow]:
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as conn:
                query = select(DeliveryRow.__table__)
                for name, value in where.items():
                    query = query.where(DeliveryRow.__table__.c[name] == value)
                return list(conn.execute(query.order_by(DeliveryRow.__table__.c.id)).all())
        finally:
            engine.dispose()

    def wait_status(self, status: str, *, count: int = 1, **where: Any) -> list[Any]:
        return wait_for(
            lambda: (rows := self.deliveries(status=status, **where)) and len(rows) >= count
            and rows,
            what=f"{count} delivery(ies) {status} {where}",
        )

    def wait_consumed(self, event: Envelope) -> None:
        """Wait until notifications has consumed `event` (its inbox row is committed with
        whatever it planned, so an empty plan can be asserted after this)."""
        consumer = "notifications." + consumer_method_name(event.type)

        def consumed() -> bool:
            engine = make_engine(self.db_url)
            try:
                with engine.connect() as conn:
                    return conn.execute(
                        text("select 1 from inbox where consumer = :c and message_id = :m"),
                        {"c": consumer, "m": str(event.message_id)},
                    ).first() is not None
            finally:
                engine.dispose()

        wait_for(consumed, what=f"{event.type} consumed")

    def access_log(self, **where: Any) -> list[Any]:
        """The service's access log rows, oldest first."""
        engine = make_engine(self.db_url)
        try:
            with engine.connect() as conn:
                table = NotificationsService.db.metadata.tables["access_log"]
                query = select(table)
                for name, value in where.items():
                    query = query.where(table.c[name] == value)
                return list(conn.execute(query.order_by(table.c.id)).all())
        finally:
            engine.dispose()

    def wait_settled(self, event: Envelope, *, planned: int) -> list[Any]:
        """Wait until the event's `planned` deliveries are all in the ledger and none is
        still pending or retrying: the effect the mails are the side of."""
        def settled() -> list[Any] | None:
            rows = self.deliveries(message_id=str(event.message_id))
            done = len(rows) == planned and all(
                r.status not in ("pending", "retrying") for r in rows)
            return rows if done else None

        return wait_for(settled, what=f"{planned} deliveries of {event.type} settled")


def start(amqp_uri: str, db_url: str, runner_factory: Any, **extra: Any) -> Iterator[Running]:
    upgrade("notifications", db_url)
    settings: dict[str, Any] = {
        "WEBHOOK_ALLOW_LOOPBACK": True,
        "DELIVERY_SWEEP_SECONDS": 0.05,
        "DELIVERY_BACKOFF_BASE_SECONDS": 0.05,
        "DELIVERY_BACKOFF_CAP_SECONDS": 0.2,
        "DELIVERY_MAX_ATTEMPTS": 10,
        "CONTACT_TIMEOUT_SECONDS": 5,
    }
    settings.update(extra)
    config = service_config(amqp_uri, {"notifications": db_url}, **settings)
    intake, coordination, partners = FakeIntake(), FakeCoordination(), FakePartners()
    runner = runner_factory(config, NotificationsService,
                            *stand_ins(intake, coordination, partners))
    runner.start()
    publisher = Publisher(amqp_uri)
    try:
        yield Running(config, db_url, intake, coordination, partners, publisher)
    finally:
        publisher.close()
