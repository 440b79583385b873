"""Signed webhooks: a JSON POST to the partner's https URL (see docs/webhooks.md).

Each attempt is signed afresh (signing.signed_headers: Standard Webhooks' webhook-id,
webhook-timestamp and webhook-signature, the id being the event's message_id, plus the
deprecated Samspil-Signature for one more release), with every secret of the
subscription that is valid now (two during a rotation's overlap). It follows no
redirect, and goes through the shared SSRF guard (services.common.net): the host must
resolve to public addresses only (loopback too where WEBHOOK_ALLOW_LOOPBACK is set, for
tests), and the connection goes to the address that was checked. A non-2xx answer
raises requests.HTTPError with the response, which retry.classify_exception reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests

from services.common import net
from services.common.net import UnsafeDestination
from services.notifications import signing
from services.notifications.gate import validate_webhook_url

__all__ = ["UnsafeDestination", "WebhookSender", "WebhookSettings"]


@dataclass(frozen=True)
class WebhookSettings:
    allow_loopback: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WebhookSettings:
        return cls(
            allow_loopback=str(config.get("WEBHOOK_ALLOW_LOOPBACK", "false")).lower()
            in ("1", "true", "yes"),
            timeout=float(config.get("WEBHOOK_TIMEOUT_SECONDS") or cls.timeout),
        )


class WebhookSender:
    def __init__(self, settings: WebhookSettings, resolver: net.Resolver | None = None) -> None:
        self.settings = settings
        self.resolver = resolver

    def send(
        self,
        *,
        url: str,
        secrets: Sequence[str],
        body: bytes,
        message_id: str,
        event_type: str,
        timestamp: int | None = None,
    ) -> None:
        """POST `body`, signed now: the receiver checks the timestamp against its own
        clock, so this is wall time, not the service's (possibly simulated) Clock."""
        validate_webhook_url(url, allow_loopback=self.settings.allow_loopback)
        if timestamp is None:
            timestamp = int(time.time())
        headers = {"Content-Type": "application/json"}
        headers |= signing.signed_headers(
            list(secrets), timestamp=timestamp, body=body, message_id=message_id,
            event_type=event_type,
        )
        response = net.post(
            url, data=body, headers=headers, timeout=self.settings.timeout,
            allow_loopback=self.settings.allow_loopback, resolver=self.resolver,
        )
        if not 200 <= response.status_code < 300:
            raise requests.HTTPError(
                f"webhook answered HTTP {response.status_code}", response=response
            )

    def close(self) -> None:
        """Nothing to close: each delivery opens its own connection to the address it
        checked (no pooled connection outlives its check)."""
