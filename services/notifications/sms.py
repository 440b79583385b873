"""SMS through an HTTP gateway: the provider is a setting (SMS_GATEWAY_URL), not code.

The adapter POSTs ``{"to", "from", "text", "reference"}`` as JSON, with a bearer token
when SMS_GATEWAY_TOKEN is set; any 2xx is accepted. Most Danish gateways take this
shape or one adapter away from it. A non-2xx answer raises requests.HTTPError with the
response, which retry.classify_exception reads (5xx, 408, 429 temporary; other 4xx
permanent). `reference` is the event's message_id, for the provider's own deduplication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class SmsSettings:
    url: str | None = None
    token: str | None = None
    sender: str = "Ballerup"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmsSettings:
        return cls(
            url=config.get("SMS_GATEWAY_URL") or None,
            token=config.get("SMS_GATEWAY_TOKEN") or None,
            sender=str(config.get("SMS_SENDER") or cls.sender),
            timeout=float(config.get("SMS_TIMEOUT_SECONDS") or cls.timeout),
        )


class SmsGateway:
    def __init__(self, settings: SmsSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or requests.Session()

    def send(self, *, to: str, text: str, reference: str) -> None:
        if not self.settings.url:
            # A setting is missing: retrying will not help until an operator sets it.
            raise ValueError("SMS_GATEWAY_URL is not configured")
        headers = {"Content-Type": "application/json"}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        response = self.session.post(
            self.settings.url,
            json={"to": to, "from": self.settings.sender, "text": text, "reference": reference},
            headers=headers,
            timeout=self.settings.timeout,
            allow_redirects=False,
        )
        if not 200 <= response.status_code < 300:
            raise requests.HTTPError(f"SMS gateway answered {response.status_code}",
                                     response=response)

    def close(self) -> None:
        self.session.close()
