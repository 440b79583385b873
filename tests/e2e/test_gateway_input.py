"""Input the gateway refuses with a clear 400 (never a 5xx) and the protocol answers it
owes: deep JSON, lone surrogates, chunked bodies, 405 with Allow, and a /ready that
tells whether the services it routes to answer."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from services.gateway.auth import Role
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e


def _post_raw(system: System, path: str, token: str, body: bytes,
              headers: dict[str, str]) -> tuple[int, dict]:
    parts = urlsplit(system.base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_bad_json_shapes_are_400s_naming_the_rule(system: System) -> None:
    token = system.token(Role.FRONTEN, "anne")
    for depth, expected in ((60, 400), (990, 400), (30_000, 400)):
        body = '{"wish": ' + "[" * depth + "]" * depth + "}"
        resp = system.call("POST", "/api/inquiries", token, data=body,
                           headers={"Content-Type": "application/json"})
        assert resp.status_code == expected, (depth, resp.text[:300])
        rules = {e["rule"] for e in resp.json().get("errors", [])}
        assert ("json_depth" in rules) == (depth > 64), (depth, rules)
    resp = system.call("POST", "/api/inquiries", token, headers={
        "Content-Type": "application/json"}, data='{"channel": "phone", "inquirer_kind": '
        '"citizen", "topics": ["other"], "wish": "hej \\ud800 med dig"}')
    assert resp.status_code == 400
    assert [(e["field"], e["rule"]) for e in resp.json()["errors"]] == [
        ("wish", "lone_surrogate")]
    assert system.rows("intake", "select count(*) as n from inquiries")[0].n == 0


def test_a_chunked_body_is_refused_with_411(system: System) -> None:
    token = system.token(Role.FRONTEN, "anne")
    status, body = _post_raw(system, "/api/inquiries", token,
                             b"5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
                             {"Transfer-Encoding": "chunked"})
    assert status == 411 and body["title"] == "Length required"


def test_405_carries_allow_and_ready_names_the_services(system: System) -> None:
    token = system.token(Role.FRONTEN, "anne")
    resp = system.call("DELETE", "/api/inquiries", token)
    assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
    ready = system.call("GET", "/ready")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert {checks[s] for s in ("intake", "coordination", "housing", "notifications",
                                "partners")} == {"ok"}
