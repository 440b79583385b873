"""Signed webhooks: a JSON POST to the partner's https URL (see docs/webhooks.md).

Each attempt is signed afresh (signing.signed_headers: HMAC-SHA256 over the timestamp
and the exact body), carries the event's message_id as the idempotency key, follows no
redirect, and refuses a host that resolves to a private, loopback or link-local
address (SSRF) unless WEBHOOK_ALLOW_LOOPBACK is set for tests. A non-2xx answer
raises requests.HTTPError with the response, which retry.classify_exception reads.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from services.notifications import signing
from services.notifications.gate import validate_webhook_url


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


class UnsafeDestination(ValueError):
    """The URL's host resolves to an address a webhook must never be sent to."""


def check_destination(url: str, *, allow_loopback: bool) -> None:
    """Refuse hosts resolving to private, loopback, link-local or reserved addresses."""
    validate_webhook_url(url, allow_loopback=allow_loopback)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if address.is_loopback and allow_loopback:
            continue
        if (address.is_private or address.is_loopback or address.is_link_local
                or address.is_reserved or address.is_multicast or address.is_unspecified):
            raise UnsafeDestination(f"{host} resolves to a non-public address")


class WebhookSender:
    def __init__(self, settings: WebhookSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()

    def send(
        self,
        *,
        url: str,
        secret: str,
        body: bytes,
        message_id: str,
        event_type: str,
        timestamp: int | None = None,
    ) -> None:
        """POST `body`, signed now: the receiver checks the timestamp against its own
        clock, so this is wall time, not the service's (possibly simulated) Clock."""
        check_destination(url, allow_loopback=self.settings.allow_loopback)
        if timestamp is None:
            timestamp = int(time.time())
        headers = {"Content-Type": "application/json"}
        headers |= signing.signed_headers(
            secret.encode("utf-8"),
            timestamp=timestamp,
            body=body,
            message_id=message_id,
            event_type=event_type,
        )
        response = self.session.post(
            url, data=body, headers=headers, timeout=self.settings.timeout, allow_redirects=False
        )
        if not 200 <= response.status_code < 300:
            raise requests.HTTPError(
                f"webhook answered HTTP {response.status_code}", response=response
            )

    def close(self) -> None:
        self.session.close()
