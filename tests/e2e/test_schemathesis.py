"""schemathesis against the live /api/openapi.json of the running system: every
operation, with valid and invalid data, called with a token of a role that may call
it. No answer may be a 5xx, and every answer must be one the document promises
(status code, content type, body schema).

Bounded: SAMSPIL_FUZZ_EXAMPLES (default 20) valid and invalid requests per operation,
on PostgreSQL; the stories run on both backends. What it found and the gateway now
refuses with a 400 naming the field: NUL characters (PostgreSQL cannot store them),
dates outside the years 1800-2999 (a service's date arithmetic overflowed), and a
newline in the path (nameko answered an HTML 404).

After the run, issue 10's CPR scan: every response body (and header) the fuzzer got,
and every log line the process wrote meanwhile (every service's and the gateway's,
the web server's access log included), holds no CPR-shaped value with a valid date
(services.common.pii's rule). The run sends CPR numbers (the `cpr` fields' pattern, and
in paths and free text as invalid data), so the scan has something to find.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.common import pii
from services.gateway.api import ROUTES
from services.gateway.auth import Role
from services.gateway.openapi import openapi_path
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SAMSPIL_FUZZ_EXAMPLES", "20"))
# Who calls each operation: the first role in this order that the route allows.
PREFERENCE = (Role.OPERATOR, Role.FRONTEN, Role.TOVHOLDER, Role.PARTNER)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ROLES = {
    (r.method, openapi_path(r.path)): next((p for p in PREFERENCE if p in r.roles), None)
    for r in ROUTES.routes
}


@pytest.fixture
def backend() -> str:
    """PostgreSQL, the production backend (and the stricter one: it refuses NUL
    characters, for one); SAMSPIL_FUZZ_BACKEND=sqlite fuzzes the other."""
    return os.environ.get("SAMSPIL_FUZZ_BACKEND", "postgresql")


@pytest.fixture
def tokens(system: System) -> dict[Role, str]:
    return {
        Role.OPERATOR: system.token(Role.OPERATOR, "ops"),
        Role.FRONTEN: system.token(Role.FRONTEN, "anne"),
        Role.TOVHOLDER: system.token(Role.TOVHOLDER, "mette"),
        Role.PARTNER: system.token(Role.PARTNER, "bf", partner="bf-ballerup"),
    }


@dataclass
class Seen:
    """What the fuzzer sent and got: the answers to scan for CPR numbers."""

    responses: list[str] = field(default_factory=list)
    requests_with_cpr: int = 0


def _request_text(case: Any) -> str:
    parts = [case.path_parameters, case.query, case.body, case.headers]
    return json.dumps(parts, default=str, ensure_ascii=False)


# Real CPR numbers (valid dates, with and without the hyphen, three centuries) that the
# run plants in requests, so the scan after it has something to find if anything leaks.
CPRS = ("120801-4321", "1508851234", "010203-5678", "311299-9876")


def plant_cpr(case: Any, cpr: str) -> Any:
    """The case with a CPR number where a person might put one: the `cpr` field, the
    first text field of the body, a query parameter, or a path parameter (all but the
    `cpr` field are to be refused without echoing it)."""
    if isinstance(case.body, dict) and case.body:
        key = "cpr" if "cpr" in case.body else next(
            (k for k, v in case.body.items() if isinstance(v, str)), next(iter(case.body)))
        case.body = {**case.body, key: cpr}
    elif case.query:
        case.query = {**case.query, next(iter(case.query)): cpr}
    elif case.path_parameters:
        case.path_parameters = {**case.path_parameters, next(iter(case.path_parameters)): cpr}
    else:
        case.query = {"q": cpr}
    return case


def fuzz(operation: Any, headers: dict[str, str], seen: Seen) -> Any:
    """A hypothesis test of one operation: valid and invalid requests, and valid ones
    carrying a CPR number, bounded. Every answer's headers and body are kept for the
    CPR scan."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    strategy = st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE),
                         st.builds(plant_cpr, positive, st.sampled_from(CPRS)))

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(case=strategy)
    def call(case: Any) -> None:
        if pii.contains_cpr(_request_text(case)):
            seen.requests_with_cpr += 1
        response = case.call(headers=headers, timeout=30)
        seen.responses.append(json.dumps(dict(response.headers), ensure_ascii=False)
                              + "\n" + response.content.decode("utf-8", "replace"))
        case.validate_response(response, CHECKS, headers=headers,
                               transport_kwargs={"headers": dict(headers), "timeout": 30})

    return call


def cpr_lines(texts: list[str]) -> list[str]:
    """The lines of `texts` that hold a CPR number (a valid date; UUIDs do not count)."""
    return [line for text in texts for line in text.splitlines() if pii.contains_cpr(line)]


def test_the_document_holds_for_every_operation(system: System, tokens: dict[Role, str],
                                                caplog: pytest.LogCaptureFixture) -> None:
    # Every record at INFO and up: the services', the gateway's, and the web server's
    # access log (nameko.web.server: one line per request, with the full URL).
    caplog.set_level(logging.INFO)
    seen = Seen()
    # The Python API rather than schemathesis' pytest plugin: the plugin's lazy loader
    # (from_fixture) sets a private pytest attribute that pytest 9.2 no longer has.
    schema = schemathesis.openapi.from_url(f"{system.base}/api/openapi.json")
    schema.config.update(base_url=system.base)
    # Invalid values for the documented parameters and bodies, but no made-up headers:
    # a garbage Content-Length is answered by the HTTP server (eventlet) before the
    # gateway sees the request, with an empty 400.
    schema.config.generation.update(allow_extra_parameters=False)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"the document is invalid: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        role = ROLES[(operation.method.upper(), operation.path)]
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        call = fuzz(operation, headers, seen)
        try:
            call()
        # Collect them all: one run shows every problem. (schemathesis' FailureGroup is a
        # BaseExceptionGroup, not an Exception: without it, the first failure ended the run.)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations == len(ROUTES.routes)  # every route is documented and was tried

    # The CPR scan: every answer, every log line (message and traceback, as formatted).
    records = caplog.records
    log_lines = caplog.text.splitlines()  # as a handler formats them, tracebacks included
    in_responses = cpr_lines(seen.responses)
    in_logs = cpr_lines(log_lines)
    access_log = [r for r in records if r.name == "nameko.web.server"]
    print(f"\nCPR scan: {len(seen.responses)} responses scanned, {len(log_lines)} log "
          f"lines scanned ({len(access_log)} access-log lines), "
          f"{seen.requests_with_cpr} requests carried a CPR number; CPR found: "
          f"{len(in_responses)} in responses, {len(in_logs)} in logs")
    assert access_log, "the web server's access log was not captured"
    assert not in_responses, "CPR numbers in answers:\n" + "\n".join(in_responses[:20])
    assert not in_logs, "CPR numbers in the logs:\n" + "\n".join(in_logs[:20])
    assert not failures, "\n\n".join(failures)
