"""Webhook signing: Standard Webhooks (https://www.standardwebhooks.com), and for one
release more the deprecated Samspil-Signature scheme beside it.

Every webhook delivery carries:

    webhook-id               the event's message_id: the idempotency key (the same on
                             every retry), and signed
    webhook-timestamp        unix seconds when this attempt was signed
    webhook-signature        v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"> (one
                             per secret, space-separated, during a rotation's overlap)
    Samspil-Event-Type       the event type, e.g. ``housing.partner_status``
    Samspil-Signature        DEPRECATED: t=<unix seconds>,v1=<hex HMAC-SHA256 of
                             "<t>.<body>"> (does not cover the id)
    Samspil-Idempotency-Key  DEPRECATED: the same value as webhook-id

The Standard Webhooks signature is made by the `standardwebhooks` package itself, so a
partner's ``Webhook(secret).verify(body, headers)`` accepts exactly what is sent: a
secret in the standard form (``whsec_`` + base64; what Samspil generates) keys the HMAC
with its decoded bytes. A secret set by hand that is not base64 at all keys it with
its UTF-8 bytes (``Webhook(secret.encode())`` on the partner's side).

Each attempt is signed afresh at send time, so a retry hours later is still inside the
receiver's 5-minute window while its id stays the same; a captured request cannot be
replayed under another id, nor with another timestamp, without the secret.

The block between the two marker comments below is the reference verifier of the
deprecated scheme that docs/webhooks.md prints verbatim (a test compares them and runs
the copy in the doc). It uses the standard library only and must stay that way.
"""

# --- reference verifier: begin ---
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

SIGNATURE_HEADER = "Samspil-Signature"
IDEMPOTENCY_KEY_HEADER = "Samspil-Idempotency-Key"
EVENT_TYPE_HEADER = "Samspil-Event-Type"
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_HEX_DIGITS = frozenset("0123456789abcdef")


class SignatureError(Exception):
    """The Samspil-Signature header does not prove that Samspil sent this body now."""


class MalformedSignature(SignatureError):
    """The header is missing parts or is not in the form t=<int>,v1=<hex>."""


class SignatureMismatch(SignatureError):
    """No v1 signature in the header matches the body under any of the secrets."""


class TimestampOutsideTolerance(SignatureError):
    """The signature is genuine but its timestamp is outside the replay window."""


def compute_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` under `secret`."""
    signed = f"{timestamp}.".encode("ascii") + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def parse_signature_header(header_value: str | None) -> tuple[int, list[str]]:
    """Split ``t=<unix>,v1=<hex>[,v1=<hex>...]`` into the timestamp and the v1 values.

    Entries with other scheme names (a future ``v2``) are ignored, so that Samspil can
    add a scheme without breaking existing verifiers. Raises MalformedSignature, also
    when the header is missing (None or empty).
    """
    if not header_value:
        raise MalformedSignature(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header_value.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value:
            raise MalformedSignature(f"entry {item.strip()!r} is not key=value")
        if key == "t":
            # isascii: str.isdigit() also accepts digits such as '²' that int() refuses.
            if timestamp is not None or not (value.isascii() and value.isdigit()):
                raise MalformedSignature("t must appear once, as unix seconds")
            timestamp = int(value)
        elif key == SIGNATURE_SCHEME:
            if len(value) != 64 or not set(value) <= _HEX_DIGITS:
                raise MalformedSignature("v1 must be 64 lowercase hex digits")
            signatures.append(value)
    if timestamp is None or not signatures:
        raise MalformedSignature("the header needs t= and at least one v1=")
    return timestamp, signatures


def verify(
    secrets: bytes | Iterable[bytes],
    header_value: str | None,
    body: bytes,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Check a Samspil-Signature header against the raw request body.

    `secrets` is one shared secret or several (during a rotation, accept the old and
    the new). `body` must be the exact bytes received, before any JSON parsing.
    `now` is the receiver's clock in unix seconds. Returns True, or raises
    MalformedSignature, SignatureMismatch or TimestampOutsideTolerance.
    """
    keys = [secrets] if isinstance(secrets, (bytes, bytearray)) else list(secrets)
    if not keys or not all(keys):
        raise ValueError("verify needs at least one non-empty secret")
    timestamp, candidates = parse_signature_header(header_value)
    matched = False
    for key in keys:
        expected = compute_signature(bytes(key), timestamp, body).encode("ascii")
        for candidate in candidates:
            # compare_digest takes the same time wherever the first difference is.
            matched |= hmac.compare_digest(expected, candidate.encode("ascii"))
    if not matched:
        raise SignatureMismatch("no v1 signature matches the body")
    # Checked after the signature, so that only genuine messages learn about clock skew.
    if abs(now - timestamp) > tolerance_seconds:
        raise TimestampOutsideTolerance(
            f"timestamp {timestamp} is {now - timestamp} s from now; "
            f"the window is ±{tolerance_seconds} s"
        )
    return True


# --- reference verifier: end ---

import datetime as dt  # noqa: E402 - after the verbatim block, which must stay standalone

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook  # noqa: E402


def sign(secret: bytes | Iterable[bytes], timestamp: int, body: bytes) -> str:
    """The Samspil-Signature header value for `body` sent at `timestamp` (unix seconds).

    Pass several secrets during a rotation: the header then carries one ``v1=`` entry
    per secret (newest first by convention), and a receiver holding either one accepts.
    """
    keys = [secret] if isinstance(secret, (bytes, bytearray)) else list(secret)
    if not keys or not all(keys):
        raise ValueError("sign needs at least one non-empty secret")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative int (unix seconds)")
    parts = [f"t={timestamp}"]
    parts += [f"{SIGNATURE_SCHEME}={compute_signature(bytes(k), timestamp, body)}" for k in keys]
    return ",".join(parts)


# -- Standard Webhooks ------------------------------------------------------------------

WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
DEPRECATED_HEADERS = (SIGNATURE_HEADER, IDEMPOTENCY_KEY_HEADER)


def _text(secret: str | bytes) -> str:
    return secret if isinstance(secret, str) else bytes(secret).decode("utf-8")


def standard_webhook(secret: str | bytes) -> Webhook:
    """The `standardwebhooks` signer/verifier for a shared secret, keyed as a partner's
    ``Webhook(secret)`` keys it; a secret that is no base64 at all by its UTF-8 bytes."""
    text = _text(secret)
    try:
        return Webhook(text)
    except (ValueError, EmptyWebhookSecretError):  # binascii.Error is a ValueError
        return Webhook(text.encode("utf-8"))


def standard_signature(
    secret: str | bytes | Iterable[str | bytes], *, message_id: str, timestamp: int,
    body: bytes,
) -> str:
    """The webhook-signature value: ``v1,<base64>`` per secret, space-separated (the
    newest secret first by convention), over ``f"{message_id}.{timestamp}."`` + body."""
    keys = [secret] if isinstance(secret, str | bytes | bytearray) else list(secret)
    if not keys or not all(keys):
        raise ValueError("sign needs at least one non-empty secret")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be a non-negative int (unix seconds)")
    if not message_id or " " in message_id or "." in message_id:
        raise ValueError("the webhook id must be non-empty, without spaces or dots")
    when = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    data = body.decode("utf-8")
    return " ".join(
        standard_webhook(k).sign(msg_id=message_id, timestamp=when, data=data) for k in keys
    )


def signed_headers(
    secret: str | bytes | Iterable[str | bytes],
    *,
    timestamp: int,
    body: bytes,
    message_id: str,
    event_type: str,
) -> dict[str, str]:
    """Every header of one delivery attempt: the three Standard Webhooks headers, the
    event type, and the two deprecated Samspil headers (sent for one more release).

    `message_id` is the envelope's message_id: webhook-id, the receiver's idempotency
    key, which stays the same on every retry of the same event to the same subscriber.
    Several secrets (a rotation's overlap) give one signature per secret in both schemes.
    """
    keys = [secret] if isinstance(secret, str | bytes | bytearray) else list(secret)
    return {
        WEBHOOK_ID_HEADER: str(message_id),
        WEBHOOK_TIMESTAMP_HEADER: str(timestamp),
        WEBHOOK_SIGNATURE_HEADER: standard_signature(
            keys, message_id=str(message_id), timestamp=timestamp, body=body),
        EVENT_TYPE_HEADER: event_type,
        SIGNATURE_HEADER: sign([_text(k).encode("utf-8") for k in keys], timestamp, body),
        IDEMPOTENCY_KEY_HEADER: str(message_id),
    }
