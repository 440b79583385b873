"""Webhook signatures: what a partner's verifier must accept and refuse."""

from __future__ import annotations

import base64
import hmac
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.notifications import signing
from services.notifications.signing import (
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_KEY_HEADER,
    SIGNATURE_HEADER,
    MalformedSignature,
    SignatureMismatch,
    TimestampOutsideTolerance,
    sign,
    signed_headers,
    standard_signature,
    verify,
)

SECRET = b"whsec_partner_secret"
NOW = 1_761_552_000
BODY = b'{"type":"housing.partner_status","tenancy_ref":"L-1042"}'
DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


def test_round_trip() -> None:
    header = sign(SECRET, NOW, BODY)

    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(SECRET, header, BODY, now=NOW) is True


def test_tampered_body_is_refused() -> None:
    header = sign(SECRET, NOW, BODY)

    with pytest.raises(SignatureMismatch):
        verify(SECRET, header, BODY.replace(b"L-1042", b"L-1043"), now=NOW)


def test_wrong_secret_is_refused() -> None:
    header = sign(SECRET, NOW, BODY)

    with pytest.raises(SignatureMismatch):
        verify(b"another secret", header, BODY, now=NOW)


def test_changed_timestamp_is_refused() -> None:
    # Replaying a captured request with a fresh t= must not work without the secret.
    header = sign(SECRET, NOW - 3600, BODY).replace(f"t={NOW - 3600}", f"t={NOW}")

    with pytest.raises(SignatureMismatch):
        verify(SECRET, header, BODY, now=NOW)


def test_old_timestamp_is_outside_the_replay_window() -> None:
    header = sign(SECRET, NOW - 301, BODY)

    with pytest.raises(TimestampOutsideTolerance):
        verify(SECRET, header, BODY, now=NOW)


def test_future_timestamp_beyond_tolerance_is_refused() -> None:
    header = sign(SECRET, NOW + 301, BODY)

    with pytest.raises(TimestampOutsideTolerance):
        verify(SECRET, header, BODY, now=NOW)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_edges_of_the_window_are_accepted(skew: int) -> None:
    assert verify(SECRET, sign(SECRET, NOW + skew, BODY), BODY, now=NOW)


def test_tolerance_is_a_parameter() -> None:
    header = sign(SECRET, NOW - 60, BODY)

    assert verify(SECRET, header, BODY, now=NOW, tolerance_seconds=60)
    with pytest.raises(TimestampOutsideTolerance):
        verify(SECRET, header, BODY, now=NOW, tolerance_seconds=59)


GOOD_V1 = "v1=" + "a" * 64


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        GOOD_V1,  # no t=
        f"t={NOW}",  # no v1=
        f"t={NOW},",  # empty entry
        f"t=abc,{GOOD_V1}",
        f"t=-5,{GOOD_V1}",
        f"t=+5,{GOOD_V1}",
        f"t=²,{GOOD_V1}",
        f"t={NOW},t={NOW},{GOOD_V1}",
        f"t={NOW},v1=",
        f"t={NOW},v1=xyz",
        f"t={NOW},v1={'A' * 64}",
        f"t={NOW},v1={'a' * 63}",
        f"t={NOW};{GOOD_V1}",
    ],
)
def test_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(MalformedSignature):
        verify(SECRET, header, BODY, now=NOW)


def test_unknown_schemes_and_spaces_are_tolerated() -> None:
    # A future v2 next to v1 must not break today's verifiers.
    header = sign(SECRET, NOW, BODY).replace(",", " , ") + ",v2=something"

    assert verify(SECRET, header, BODY, now=NOW)


def test_rotation_header_with_both_secrets_passes_either_verifier() -> None:
    old, new = b"old secret", b"new secret"
    header = sign([new, old], NOW, BODY)

    assert header.count("v1=") == 2
    assert verify(old, header, BODY, now=NOW)
    assert verify(new, header, BODY, now=NOW)
    with pytest.raises(SignatureMismatch):
        verify(b"third secret", header, BODY, now=NOW)


def test_rotation_verifier_with_both_secrets_accepts_either_signer() -> None:
    old, new = b"old secret", b"new secret"

    assert verify([old, new], sign(old, NOW, BODY), BODY, now=NOW)
    assert verify([old, new], sign(new, NOW, BODY), BODY, now=NOW)


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    verify([b"one", b"two"], sign(b"two", NOW, BODY), BODY, now=NOW)

    assert len(calls) == 2  # every secret is compared, none by ==


@pytest.mark.parametrize("secrets", [b"", [], [b"ok", b""]])
def test_empty_secrets_are_a_programming_error(secrets: bytes | list[bytes]) -> None:
    with pytest.raises(ValueError):
        verify(secrets, sign(SECRET, NOW, BODY), BODY, now=NOW)
    with pytest.raises(ValueError):
        sign(secrets, NOW, BODY)


@pytest.mark.parametrize("timestamp", [-1, True, 1.5])
def test_sign_refuses_odd_timestamps(timestamp: int) -> None:
    with pytest.raises(ValueError):
        sign(SECRET, timestamp, BODY)


def test_signed_headers_carry_message_id_and_event_type() -> None:
    headers = signed_headers(
        SECRET,
        timestamp=NOW,
        body=BODY,
        message_id="3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61",
        event_type="housing.partner_status",
    )

    assert headers == {
        "webhook-id": "3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61",
        "webhook-timestamp": str(NOW),
        "webhook-signature": standard_signature(
            SECRET, message_id="3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61", timestamp=NOW,
            body=BODY),
        "Samspil-Signature": sign(SECRET, NOW, BODY),
        "Samspil-Idempotency-Key": "3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61",
        "Samspil-Event-Type": "housing.partner_status",
    }


# -- Standard Webhooks: what the `standardwebhooks` library accepts ----------------------


def _now_headers(secrets: str | list[str], message_id: str = "msg-1") -> dict[str, str]:
    return signed_headers(secrets, timestamp=int(time.time()), body=BODY,
                          message_id=message_id, event_type="housing.partner_status")


@pytest.mark.parametrize("secret", [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # the standard form
    "whsec_test_only_0123456789",  # set by hand before Standard Webhooks: as Webhook() reads it
])
def test_the_library_verifies_what_samspil_signs(secret: str) -> None:
    assert Webhook(secret).verify(BODY, _now_headers(secret)) == json.loads(BODY)


def test_a_secret_that_is_no_base64_keys_with_its_bytes() -> None:
    secret = "whsec_a"  # one base64 character: Webhook(secret) cannot decode it
    with pytest.raises(ValueError):
        Webhook(secret)
    assert Webhook(secret.encode()).verify(BODY, _now_headers(secret)) == json.loads(BODY)


def test_the_id_is_signed_a_replay_under_another_id_fails() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    captured = _now_headers(secret, message_id="3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61")
    replayed = captured | {"webhook-id": "9b2e6a44-1111-4c3b-8d55-2d1b7a0c9e10"}

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, replayed)


def test_a_rotation_signs_with_both_secrets_and_either_verifies() -> None:
    old, new = ("whsec_" + base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2))
    headers = _now_headers([new, old])

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert headers["Samspil-Signature"].count("v1=") == 2
    for secret in (old, new):
        assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"\x03" * 32).decode()).verify(BODY, headers)


def test_an_old_timestamp_is_refused_by_the_library() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = signed_headers(secret, timestamp=int(time.time()) - 301, body=BODY,
                             message_id="m", event_type="t")
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


@given(
    secret=st.binary(min_size=1, max_size=64),
    timestamp=st.integers(min_value=0, max_value=2**40),
    body=st.binary(max_size=512),
    index=st.integers(min_value=0),
)
def test_any_one_byte_change_is_detected(
    secret: bytes, timestamp: int, body: bytes, index: int
) -> None:
    header = sign(secret, timestamp, body)
    assert verify(secret, header, body, now=timestamp)
    if body:
        i = index % len(body)
        tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(SignatureMismatch):
            verify(secret, header, tampered, now=timestamp)


# -- docs/webhooks.md: its verifier is the code we ship, and it runs ---------------


def _reference_block() -> str:
    source = Path(signing.__file__).read_text(encoding="utf-8")
    begin, end = "# --- reference verifier: begin ---\n", "# --- reference verifier: end ---\n"
    return source[source.index(begin) + len(begin) : source.index(end)].strip("\n")


def _doc_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_doc_prints_the_reference_verifier_verbatim() -> None:
    blocks = _doc_python_blocks()

    assert blocks, "docs/webhooks.md has no python block"
    assert _reference_block() in [b.strip("\n") for b in blocks]


def test_doc_names_the_headers_and_the_window() -> None:
    doc = DOC.read_text(encoding="utf-8")

    for name in (SIGNATURE_HEADER, IDEMPOTENCY_KEY_HEADER, EVENT_TYPE_HEADER):
        assert f"`{name}`" in doc
    assert f"**{signing.DEFAULT_TOLERANCE_SECONDS} seconds**" in doc


def _run_doc() -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "webhooks_doc"}
    for block in _doc_python_blocks():
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own doc
    return namespace


def test_doc_verifier_accepts_what_samspil_signs() -> None:
    doc_verify = _run_doc()["verify"]
    header = sign([b"new", b"old"], NOW, BODY)

    assert doc_verify(b"old", header, BODY, now=NOW) is True  # type: ignore[operator]
    with pytest.raises(Exception, match="no v1 signature"):
        doc_verify(b"old", header, BODY + b" ", now=NOW)  # type: ignore[operator]


STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "3f0d1c8e-6a2b-4f7e-9d1a-0c5b8e2f4a61"


def test_doc_handler_example_verifies_and_deduplicates() -> None:
    # The library verifies against the wall clock (datetime.now): sign now.
    namespace = _run_doc()
    handle = namespace["handle_webhook"]
    headers = signed_headers(STANDARD_SECRET, timestamp=int(time.time()), body=BODY,
                             message_id=MESSAGE_ID, event_type="housing.partner_status")
    seen: set[str] = set()

    assert handle(headers, BODY, [STANDARD_SECRET], seen) == 200  # type: ignore[operator]
    assert seen == {MESSAGE_ID}
    assert handle(headers, BODY, [STANDARD_SECRET], seen) == 200  # type: ignore[operator]
    assert handle(headers, BODY + b"x", [STANDARD_SECRET], seen) == 401  # type: ignore[operator]
    assert handle({}, BODY, [STANDARD_SECRET], seen) == 401  # type: ignore[operator]
    other = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert handle(headers, BODY, [other], set()) == 401  # type: ignore[operator]
    # During a rotation the receiver may hold either secret, or both.
    both = signed_headers([other, STANDARD_SECRET], timestamp=int(time.time()), body=BODY,
                          message_id=MESSAGE_ID, event_type="housing.partner_status")
    assert handle(both, BODY, [STANDARD_SECRET], set()) == 200  # type: ignore[operator]
    assert handle(both, BODY, [other], set()) == 200  # type: ignore[operator]


def test_doc_standard_test_vector_is_what_samspil_signs() -> None:
    doc = DOC.read_text(encoding="utf-8")
    signature = standard_signature(STANDARD_SECRET, message_id=MESSAGE_ID, timestamp=NOW,
                                   body=BODY)

    assert f"`{STANDARD_SECRET}`" in doc and f"`{MESSAGE_ID}`" in doc
    assert "\n" + signature + "\n" in doc
    assert f"webhook-signature: {signature}\n" in doc  # the example request too


def test_doc_test_vector_is_what_sign_produces() -> None:
    doc = DOC.read_text(encoding="utf-8")
    vector = sign(b"whsec_test_only", NOW, BODY)

    assert f"`{BODY.decode()}`" in doc
    assert f"`{NOW}`" in doc
    assert "\n" + vector + "\n" in doc
