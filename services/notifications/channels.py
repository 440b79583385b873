"""The `Channels` dependency: the transports and the delivery settings, from config.

Config keys (all optional; deploy/config/notifications.yaml shows them):
SMTP_HOST, SMTP_PORT, SMTP_FROM, SMTP_STARTTLS, SMTP_USERNAME, SMTP_PASSWORD,
WEBHOOK_ALLOW_LOOPBACK (tests only), WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_SECRET_ENCRYPTION_KEY
(Fernet key(s) for the stored webhook secrets; services.notifications.secretbox),
WEBHOOK_SECRET_OVERLAP_HOURS (how long a rotated-out secret still signs; default 168),
SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN, SMS_SENDER, MAILBOXES (team -> address: fronten, coordinators,
social_vejledning, review_panel, housing), FRONTEN_EMAIL (Fronten's mailbox where
MAILBOXES does not name it), DELIVERY_SWEEP_SECONDS, DELIVERY_LEASE_SECONDS,
DELIVERY_CONCURRENCY (deliveries a sweep sends side by side; default 4),
DELIVERY_BACKOFF_BASE_SECONDS, DELIVERY_BACKOFF_CAP_SECONDS, DELIVERY_GIVE_UP_HOURS (how long
a temporary failure is retried, from the first failure; default 72), DELIVERY_MAX_ATTEMPTS
(an attempt limit besides; empty: none),
CONTACT_TIMEOUT_SECONDS (intake's, coordination's and partners' lookups), QUEUE_TYPE,
PUBLIC_API_BASE_URL (where partners reach the API, e.g. https://samspil.balk.dk: printed
before /api/handoffs/<id>/answers in a hand-off mail; left out, the path alone).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from nameko.extensions import DependencyProvider

from services.common.amqp import Broker, Publisher
from services.notifications.content import Email
from services.notifications.mailboxes import Mailboxes
from services.notifications.partner_queue import PartnerQueues
from services.notifications.retry import BackoffPolicy
from services.notifications.secretbox import SecretBox
from services.notifications.sms import SmsGateway, SmsSettings
from services.notifications.smtp import SmtpSender, SmtpSettings
from services.notifications.webhook import WebhookSender, WebhookSettings


class Transports:
    """What a worker gets: one method per channel, plus the delivery settings."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.smtp = SmtpSender(SmtpSettings.from_config(config))
        self.webhook_settings = WebhookSettings.from_config(config)
        self.webhooks = WebhookSender(self.webhook_settings)
        self.secrets = SecretBox.from_config(config)
        self.secret_overlap = dt.timedelta(
            hours=float(config.get("WEBHOOK_SECRET_OVERLAP_HOURS") or 168))
        self.sms_gateway = SmsGateway(SmsSettings.from_config(config))
        self.queues = PartnerQueues(Publisher(Broker.from_config(config)), config.get("QUEUE_TYPE"))
        self.mailboxes = Mailboxes.from_config(config)
        self.fronten_email = self.mailboxes.fronten
        self.lease = dt.timedelta(seconds=float(config.get("DELIVERY_LEASE_SECONDS") or 120))
        # Deliveries a sweep sends side by side (never two of one line: order holds).
        self.concurrency = max(int(config.get("DELIVERY_CONCURRENCY") or 4), 1)
        self.contact_timeout = float(config.get("CONTACT_TIMEOUT_SECONDS") or 10)
        self.api_base_url = str(config.get("PUBLIC_API_BASE_URL") or "").rstrip("/")
        defaults = BackoffPolicy()
        max_attempts = config.get("DELIVERY_MAX_ATTEMPTS")
        give_up_hours = config.get("DELIVERY_GIVE_UP_HOURS")
        self.policy = BackoffPolicy(
            base_seconds=float(config.get("DELIVERY_BACKOFF_BASE_SECONDS")
                               or defaults.base_seconds),
            cap_seconds=float(config.get("DELIVERY_BACKOFF_CAP_SECONDS") or defaults.cap_seconds),
            max_attempts=int(max_attempts) if max_attempts else defaults.max_attempts,
            give_up_after=dt.timedelta(hours=float(give_up_hours)) if give_up_hours
            else defaults.give_up_after,
        )
        self.rng = random.Random()

    @property
    def allow_loopback(self) -> bool:
        return self.webhook_settings.allow_loopback

    def email(self, email: Email, *, to: str, idempotency_key: str) -> None:
        self.smtp.send(email, to=to, idempotency_key=idempotency_key)

    def sms(self, *, to: str, text: str, reference: str) -> None:
        self.sms_gateway.send(to=to, text=text, reference=reference)

    def webhook(self, *, url: str, secrets: Sequence[str], body: bytes, message_id: str,
                event_type: str) -> None:
        self.webhooks.send(url=url, secrets=secrets, body=body, message_id=message_id,
                           event_type=event_type)

    def unseal(self, token: str) -> str:
        """A stored (encrypted) webhook secret, in clear for signing."""
        return self.secrets.decrypt(token)

    def partner_queue(self, partner_id: str, body: bytes, *, message_id: str,
                      event_type: str) -> None:
        self.queues.publish(partner_id, body, message_id=message_id, event_type=event_type)

    def close(self) -> None:
        self.queues.close()
        self.webhooks.close()
        self.sms_gateway.close()


class Channels(DependencyProvider):
    def setup(self) -> None:
        self.transports = Transports(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> Transports:
        return self.transports

    def stop(self) -> None:
        self.transports.close()

    def kill(self) -> None:
        self.transports.close()
