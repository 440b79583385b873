"""E-mail over SMTP, with the meeting invitation as an iMIP text/calendar part.

The message is multipart/mixed: a plain-text body (the Danish text) and the .ics as
``text/calendar; method=REQUEST|CANCEL`` attachment, which Outlook, Apple Mail and
Gmail turn into a calendar entry that later updates (same UID, higher SEQUENCE) move
or remove. Errors are left to the caller: smtplib's carry the reply code, which
retry.classify_exception reads (4xx temporary, 5xx permanent).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from services.notifications.content import Email


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "Samspil <samspil@balk.dk>"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmtpSettings:
        return cls(
            host=str(config.get("SMTP_HOST") or cls.host),
            port=int(config.get("SMTP_PORT") or cls.port),
            sender=str(config.get("SMTP_FROM") or cls.sender),
            starttls=str(config.get("SMTP_STARTTLS", "false")).lower() in ("1", "true", "yes"),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or cls.timeout),
        )


def build_message(email: Email, *, sender: str, to: str, idempotency_key: str) -> EmailMessage:
    """The MIME message. `idempotency_key` (the event's message_id) is put in a header,
    so a mail sent twice after a crash can be recognised as the same notification."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="samspil")
    message["Samspil-Idempotency-Key"] = idempotency_key
    message.set_content(email.text)
    if email.invitation is not None:
        invitation = email.invitation
        message.add_attachment(
            invitation.ics,
            maintype="text",
            subtype="calendar",
            filename=invitation.filename,
            params={"method": invitation.method, "charset": "UTF-8"},
        )
    return message


class SmtpSender:
    """Sends one message per connection: simple, and no state to go stale between sweeps."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, email: Email, *, to: str, idempotency_key: str) -> None:
        s = self.settings
        message = build_message(email, sender=s.sender, to=to, idempotency_key=idempotency_key)
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as client:
            if s.starttls:
                client.starttls(context=ssl.create_default_context())
            if s.username and s.password:
                client.login(s.username, s.password)
            client.send_message(message)
