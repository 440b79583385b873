"""gateway: the HTTP API in front of the services' RPC. Thin: the route table in
api.py says what each path does; this file authenticates, dispatches and answers."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from typing import Any

import amqp.exceptions
import eventlet
import kombu.exceptions
import sqlalchemy.exc
from amqp.exceptions import ChannelError
from nameko.dependency_providers import Config
from nameko.exceptions import (
    MethodNotFound,
    RemoteError,
    ReplyQueueExpiredWithPendingReplies,
    UnknownService,
)
from nameko.web.handlers import HttpRequestHandler
from werkzeug.routing import BaseConverter, Rule
from werkzeug.wrappers import Request, Response

from services.common import logs, metrics
from services.common.amqp import Broker, as_broker, rpc_listening
from services.common.clock import Clock
from services.common.db import Database
from services.common.deadletters import DeadLetters, ReplayFailed, find_dead_letter
from services.common.errors import NotFound
from services.common.health import readiness
from services.common.rpc import CORRELATION, DEADLINE, IDEMPOTENCY, RpcProxy
from services.gateway import api, openapi, signin
from services.gateway.auth import SESSION_COOKIE, Identity, list_staff, session_identity
from services.gateway.idempotency import ApiIdempotency, FormSubmissions, api_key_hash
from services.gateway.models import Denial, metadata
from services.gateway.oidc import InvalidToken, ProviderUnavailable
from services.web.app import RpcProblem, WebApp, web_app

log = logging.getLogger(__name__)

KNOWN_SERVICES = ("intake", "coordination", "housing", "notifications", "partners")
# Dead letters live in each service's queue, and events no consumer took in `unrouted`.
DEAD_LETTER_QUEUES = (*KNOWN_SERVICES, "unrouted")
# Every service that holds citizen data keeps an access log and answers access_report.
ACCESS_LOG_SERVICES = ("intake", "coordination", "housing", "notifications", "partners")


def wall_clock() -> dt.datetime:
    """Sign-in, sessions and tokens live in real time: the provider's tokens carry
    wall-clock times, and moving the services' business clock (as tests do) must not
    sign anyone out or revive an expired token."""
    return dt.datetime.now(dt.UTC)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), status=status,
                    content_type="application/json")


class _AnyPath(BaseConverter):
    """Every path, newlines included: werkzeug's `path` converter stops at a newline,
    and nameko would then answer an HTML 404 instead of our problem body."""

    part_isolating = False
    regex = "(?s:.*)"
    weight = 200


class _AnyPathRule(Rule):
    def get_converter(self, variable_name: str, converter_name: str, args: Any,
                      kwargs: Any) -> BaseConverter:
        if converter_name == "anypath":
            return _AnyPath(self.map, *args, **kwargs)
        return super().get_converter(variable_name, converter_name, args, kwargs)


class _CatchAll(HttpRequestHandler):
    def get_url_rule(self) -> Rule:
        return _AnyPathRule(self.url, methods=self.method.split(","))


catch_all = _CatchAll.decorator


class OperatorTools:
    """What the gateway answers itself (for the API and the web app): dead letters, and
    the staff directory (the web app's pickers)."""

    def __init__(self, broker: Broker | str, queue_type: str | None, store: Any = None) -> None:
        self.broker = as_broker(broker)
        self.queue_type = queue_type
        self.store = store

    def staff(self, role: str | None = None, agency: str | None = None) -> list[dict[str, Any]]:
        """Active people in the staff directory, by name (optionally one role/agency)."""
        with self.store.read() as session:
            return list_staff(session, role, agency)

    def dead_letters(self, service: str | None = None) -> list[dict[str, Any]]:
        services = [service] if service else list(DEAD_LETTER_QUEUES)
        return [letter.summary() for s in services
                for letter in DeadLetters(self.broker, s, queue_type=self.queue_type).list()]

    def replay(self, dead_letter_id: str) -> dict[str, Any]:
        """Replay one dead letter to the queue it failed on; NotFound if there is none."""
        letters, letter = find_dead_letter(self.broker, list(DEAD_LETTER_QUEUES),
                                           dead_letter_id, queue_type=self.queue_type)
        letters.replay(letter.id)
        return {"replayed": letter.id, "to": letter.original_queue, "type": letter.message_type}


# A broker that is down, restarting or dropping connections, however the library says so.
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    OSError, ConnectionError, kombu.exceptions.OperationalError, amqp.exceptions.AMQPError,
    ReplyQueueExpiredWithPendingReplies)
# The gateway's own database (sessions, tokens, idempotency keys) not answering.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)


class ExpiringRpcProxy(RpcProxy):
    """nameko's RpcProxy whose requests expire (AMQP per-message TTL) when the gateway
    stops waiting for them (`RPC_TIMEOUT_SECONDS`): the broker discards a request no one
    waits for, so a request answered 504 or 503 is never carried out later, when a
    stopped or slow service comes back."""

    def setup(self) -> None:
        super().setup()
        self.options["expiration"] = float(
            self.container.config.get("RPC_TIMEOUT_SECONDS", DEFAULT_RPC_TIMEOUT_SECONDS))


DEFAULT_RPC_TIMEOUT_SECONDS = 10.0
# The methods whose requests an Idempotency-Key makes safe to retry.
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class GatewayService:
    name = "gateway"

    db = Database(metadata)
    clock = Clock()
    config = Config()
    identities = signin.Identities()
    intake = ExpiringRpcProxy("intake")
    coordination = ExpiringRpcProxy("coordination")
    housing = ExpiringRpcProxy("housing")
    notifications = ExpiringRpcProxy("notifications")
    partners = ExpiringRpcProxy("partners")

    @catch_all("GET,POST,PUT,PATCH,DELETE,OPTIONS", "/<anypath:path>")
    def handle(self, request: Request, path: str) -> Response:
        request_id = uuid.uuid4().hex
        # Every call this request makes carries its id (services.common.rpc.CORRELATION):
        # the services' log lines and the events it causes name it, and so do the
        # gateway's own log lines.
        self.intake.worker_ctx.data[CORRELATION] = request_id  # one context, every proxy
        with logs.bind(correlation=request_id):
            if WebApp.handles(request.path):
                response = self._web(request)
            else:
                response = self._answer(request, request_id)
        response.headers["X-Request-Id"] = request_id
        metrics.HTTP_RESPONSES.labels(str(response.status_code)).inc()
        return response

    # -- the staff web app (services/web) ----------------------------------------------

    def _web(self, request: Request) -> Response:
        now = wall_clock()

        def identity_of() -> Identity | None:
            with self.db.read() as session:
                return session_identity(session, request.cookies.get(SESSION_COOKIE), now)

        def caller(service: str, method: str, **args: Any) -> Any:
            try:
                return self._call(service, method, args,
                                  float(self.config.get("RPC_TIMEOUT_SECONDS", 10)))
            except api.Problem as problem:
                raise RpcProblem(problem.status, problem.title, problem.errors,
                                 problem.detail) from None

        try:
            return web_app().respond(request, identity_of=identity_of, caller=caller,
                                     now=self.clock.now(),
                                     submissions=FormSubmissions(self.db, wall_clock),
                                     ops=self.operator_tools())
        except Exception:
            log.exception("web: unexpected error on %s %s", request.method, request.path)
            return web_app().failure()

    # -- the request cycle ------------------------------------------------------------

    def _answer(self, request: Request, request_id: str) -> Response:
        config = self.config
        identity: Identity | None = None
        remembered: str | None = None  # the Idempotency-Key claimed for this request
        try:
            if request.path == "/api/openapi.json":
                return json_response(openapi.document())
            if request.path == "/api/docs":
                return Response(openapi.html_page(), content_type="text/html; charset=utf-8")
            api.check_url(request)
            route, path_args = api.dispatch(request)
            identity = self._identity(request)
            if not api.allowed(route, identity):
                self._deny(request, identity, "unauthenticated" if identity is None
                           else "forbidden")
                if identity is None:
                    raise api.Problem(401, "Unauthorized",
                                      "Send a valid token: Authorization: Bearer <token>.")
                raise api.Problem(403, "Forbidden", "Your role may not do this.")
            api.check_path(route, path_args)
            if route.local:
                return getattr(self, f"_local_{route.local}")(request, identity, path_args)
            assert identity is not None and route.service and route.rpc
            body = api.read_json(request, int(config.get("MAX_BODY_BYTES",
                                                          api.DEFAULT_MAX_BODY_BYTES)))
            query = api.query_arguments(route, request)
            if_match = api.if_match_version(request) if route.if_match else None
            args = api.rpc_arguments(route, identity, body, path_args, query, if_match)
            key = request.headers.get("Idempotency-Key")
            if key is not None and request.method in STATE_CHANGING:
                key_hash = api_key_hash(identity.label, api.idempotency_key(key),
                                        request.method, request.path)
                fingerprint = json.dumps([body, request.query_string.decode("latin-1")],
                                         sort_keys=True, default=str).encode()
                replayed = self._claim(key_hash, identity.label, fingerprint)
                if replayed is not None:
                    return replayed  # the first request's answer, as it was
                remembered = key_hash  # this request does the work: keep its answer
            result = self._call(route.service, route.rpc, args,
                                float(config.get("RPC_TIMEOUT_SECONDS",
                                                 DEFAULT_RPC_TIMEOUT_SECONDS)),
                                idempotency=remembered)
            response = json_response(api.shape_result(route, identity, result), route.status)
            if route.etag and isinstance(result, dict) and result.get(route.etag) is not None:
                response.headers["ETag"] = f'"{result[route.etag]}"'
            return self._remember(remembered, response)
        except api.Problem as problem:
            if isinstance(problem, api.Denied):
                self._deny(request, identity, problem.reason)
            if identity is not None and identity.is_partner:
                problem = api.for_partner(problem)
            response = problem.response(request.path, request_id)
            current = next((e.get("current_version") for e in problem.errors
                            if e.get("current_version") is not None), None)
            if problem.status == 409 and current is not None:
                response.headers["ETag"] = f'"{current}"'
            return self._remember(remembered, response)
        except BROKER_ERRORS as exc:
            self._forget(remembered)
            log.error("gateway: broker unavailable: %s", exc)
            return api.Problem(503, "Service unavailable", "The message broker is unavailable."
                               ).response(request.path, request_id)
        except DATABASE_ERRORS as exc:
            self._forget(remembered)
            log.error("gateway: its database is unavailable: %s", type(exc).__name__)
            return api.Problem(503, "Service unavailable", "Try again in a moment."
                               ).response(request.path, request_id)
        except Exception:
            self._forget(remembered)
            log.exception("gateway: unexpected error on %s %s", request.method, request.path)
            return api.Problem(500, "Internal error", "Something went wrong on our side."
                               ).response(request.path, request_id)

    def _call(self, service: str, method: str, args: dict[str, Any], timeout: float,
              idempotency: str | None = None) -> Any:
        proxy = getattr(self, service)
        context = proxy.worker_ctx.data
        if idempotency:
            # The service records the request under the client's key (not the call's
            # own id): a retry of a request that ran, its answer lost, changes nothing.
            context[IDEMPOTENCY] = idempotency[:56]
        # After this the gateway has answered 503/504: the service must not run it.
        context[DEADLINE] = f"{time.time() + timeout:.3f}"
        try:
            with eventlet.Timeout(timeout):
                return getattr(proxy, method)(**args)
        except eventlet.Timeout:
            # The request expires unanswered (ExpiringRpcProxy): it will not run later.
            if not self._listening(service):
                raise api.Problem(503, "Service unavailable",
                                  f"The {service} service is not running.") from None
            raise api.Problem(504, "Service did not answer in time",
                              f"{service} did not answer within {timeout:g} s.") from None
        except RemoteError as exc:
            raise api.problem_from_remote(exc.exc_type, str(exc.value)) from None
        except MethodNotFound:
            raise api.Problem(501, "Not available",
                              "That operation is not available in this release.") from None
        except (UnknownService, ChannelError) as exc:
            # RabbitMQ returned the call: no instance of that service is running.
            log.error("gateway: %s is not running: %s", service, exc)
            raise api.Problem(503, "Service unavailable",
                              f"The {service} service is not running.") from None
        except BROKER_ERRORS as exc:
            log.error("gateway: broker unavailable: %s", exc)
            raise api.Problem(503, "Service unavailable", "The message broker is unavailable.") \
                from None
        finally:
            context.pop(IDEMPOTENCY, None)
            context.pop(DEADLINE, None)

    # -- Idempotency-Key ----------------------------------------------------------------

    def _claim(self, key_hash: str, principal: str, fingerprint: bytes) -> Response | None:
        """None: go ahead. Otherwise the answer: the first request's (replayed), or a
        problem (the key was used for another body, or its first request is under way)."""
        claim = ApiIdempotency(self.db, wall_clock).claim(key_hash, principal, fingerprint)
        if claim.outcome == "new":
            return None
        if claim.outcome == "replay":
            assert claim.status is not None
            replay = Response(claim.body or "", status=claim.status,
                              content_type=api.PROBLEM_JSON if claim.status >= 400
                              else "application/json")
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        if claim.outcome == "mismatch":
            raise api.Problem(422, "Idempotency key reused",
                              "This Idempotency-Key was sent before with another body.",
                              [{"field": "Idempotency-Key", "rule": "idempotency_key.reused",
                                "message": "Use a new key for a new request."}])
        raise api.Problem(409, "Request under way",
                          "The first request with this Idempotency-Key is not finished yet.",
                          [{"field": "Idempotency-Key", "rule": "idempotency_key.in_progress",
                            "message": "Try again when it has been answered."}])

    def _remember(self, key_hash: str | None, response: Response) -> Response:
        if key_hash is not None:
            ApiIdempotency(self.db, wall_clock).complete(
                key_hash, response.status_code, response.get_data(as_text=True))
        return response

    def _forget(self, key_hash: str | None) -> None:
        if key_hash is None:
            return
        try:
            ApiIdempotency(self.db, wall_clock).complete(key_hash, 500, "")
        except Exception:  # the database itself is down: the key expires in 24 hours
            log.warning("gateway: could not release an idempotency key")

    def _broker(self) -> Broker:
        return Broker.from_config(self.config)

    def _listening(self, service: str) -> bool:
        """Whether any instance of `service` consumes its RPC queue (stopped: no)."""
        try:
            return rpc_listening(self._broker(), [service]).get(service, False)
        except Exception:  # the broker itself is not answering: nothing is listening
            return False

    def _identity(self, request: Request) -> Identity | None:
        try:
            return self.identities.authenticator.authenticate(
                self.db.read, request.headers.get("Authorization"), wall_clock())
        except InvalidToken as exc:
            # Say why (expired, wrong audience, bad signature), never echo the token.
            raise api.Denied(401, "Unauthorized", "invalid_token",
                             f"The bearer token was refused: {exc.reason}.") from None
        except ProviderUnavailable:
            raise api.Problem(503, "Service unavailable",
                              "The identity provider does not answer; try again.") from None

    def _deny(self, request: Request, identity: Identity | None, reason: str) -> None:
        log.info("gateway: denied %s %s to %s: %s", request.method, request.path,
                    identity.label if identity else "anonymous", reason)
        with self.db.unit_of_work() as uow:
            uow.session.add(Denial(at=self.clock.now(), principal=identity.label if identity
                                   else None, method=request.method, path=request.path[:300],
                                   reason=reason))
            uow.commit()

    # -- routes answered by the gateway itself ------------------------------------------

    def _local_auth_login(self, request: Request, identity: Any, args: dict[str, str]) -> Response:
        return signin.login(self.identities, self.db, request, wall_clock())

    def _local_auth_callback(self, request: Request, identity: Any,
                             args: dict[str, str]) -> Response:
        return signin.callback(self.identities, self.db, request, wall_clock())

    def _local_auth_logout(self, request: Request, identity: Any,
                           args: dict[str, str]) -> Response:
        return signin.logout(self.identities, self.db, request, wall_clock())

    def _local_me(self, request: Request, identity: Identity, args: dict[str, str]) -> Response:
        return json_response(signin.me(identity))

    def _local_staff_list(self, request: Request, identity: Identity,
                          args: dict[str, str]) -> Response:
        return json_response(signin.staff_list(self.db, request))

    def _local_staff_upsert(self, request: Request, identity: Identity,
                            args: dict[str, str]) -> Response:
        body = self._body(request)
        return json_response(signin.staff_upsert(self.db, body, self.clock.now()), 201)

    def _local_tokens_list(self, request: Request, identity: Identity,
                           args: dict[str, str]) -> Response:
        return json_response(signin.tokens_list(self.db, wall_clock()))

    def _local_tokens_create(self, request: Request, identity: Identity,
                             args: dict[str, str]) -> Response:
        body = self._body(request)
        return json_response(signin.tokens_create(self.db, body, identity, wall_clock(),
                                                  self._partner_exists), 201)

    def _partner_exists(self, partner_id: str) -> bool:
        """Is the partner in the directory and active? (A token only for a real one.)"""
        try:
            found = self._call("partners", "get_partner",
                               {"actor": "service:gateway", "partner_id": partner_id},
                               float(self.config.get("RPC_TIMEOUT_SECONDS", 10)))
        except api.Problem as problem:
            if problem.status in (400, 404):
                return False
            raise
        return bool(found.get("active", True))

    def _local_tokens_revoke(self, request: Request, identity: Identity,
                             args: dict[str, str]) -> Response:
        return json_response(signin.tokens_revoke(self.identities, self.db, args["token_id"],
                                                   identity, wall_clock()))

    def _local_access_report(self, request: Request, identity: Identity,
                             args: dict[str, str]) -> Response:
        """The citizen's access report: every service's access log, merged by time."""
        citizen_ref = args["citizen_ref"]
        timeout = float(self.config.get("RPC_TIMEOUT_SECONDS", 10))
        entries: list[dict[str, Any]] = []
        for service in ACCESS_LOG_SERVICES:
            entries += self._call(service, "access_report",
                                  {"actor": identity.actor, "citizen_ref": citizen_ref}, timeout)
        entries.sort(key=lambda e: (e["at"], e["service"]))
        return json_response({"citizen_ref": citizen_ref, "items": entries,
                              "count": len(entries), "services": list(ACCESS_LOG_SERVICES)})

    def _body(self, request: Request) -> dict[str, Any]:
        return api.read_json(request, int(self.config.get("MAX_BODY_BYTES",
                                                          api.DEFAULT_MAX_BODY_BYTES)))

    def _local_health(self, request: Request, identity: Any, args: dict[str, str]) -> Response:
        return json_response({"status": "ok", "service": "gateway",
                              "at": dt.datetime.now(dt.UTC).isoformat()})

    def _local_ready(self, request: Request, identity: Any, args: dict[str, str]) -> Response:
        """Ready when the broker and database answer and every service the gateway routes
        to has an instance consuming its RPC queue."""
        ready, checks = readiness(self._broker(), self.db.engine)
        if checks.get("broker") == "ok":
            try:
                listening = rpc_listening(self._broker(), KNOWN_SERVICES)
            except Exception as exc:  # the broker went away between the two looks
                listening = {}
                checks["broker"] = f"unreachable: {type(exc).__name__}"
            for service in KNOWN_SERVICES:
                checks[service] = "ok" if listening.get(service) else "not running"
            ready = all(v in ("ok", "none") for v in checks.values())
        return json_response({"status": "ready" if ready else "not ready", "checks": checks},
                             200 if ready else 503)

    def _dead_letters(self, service: str) -> DeadLetters:
        config = self.config
        return DeadLetters(self._broker(), service, queue_type=config.get("QUEUE_TYPE"))

    def _local_dead_letters_list(self, request: Request, identity: Any,
                                 args: dict[str, str]) -> Response:
        wanted = request.args.get("service")
        if wanted is not None and wanted not in DEAD_LETTER_QUEUES:
            raise api.field_problem("service", "one_of",
                                    f"service must be one of {', '.join(DEAD_LETTER_QUEUES)}.")
        rows = self.operator_tools().dead_letters(wanted)
        return json_response({"items": rows, "count": len(rows)})

    def operator_tools(self) -> OperatorTools:
        return OperatorTools(self._broker(), self.config.get("QUEUE_TYPE"), self.db)

    def _find_dead_letter(self, dead_letter_id: str) -> tuple[DeadLetters, Any]:
        try:
            return find_dead_letter(self._broker(), list(DEAD_LETTER_QUEUES),
                                    dead_letter_id, queue_type=self.config.get("QUEUE_TYPE"))
        except NotFound:
            raise api.Problem(404, "Not found", "", [{"field": "dead_letter_id",
                              "rule": "not_found", "message": "No such dead letter."}]) from None

    def _local_dead_letters_show(self, request: Request, identity: Any,
                                 args: dict[str, str]) -> Response:
        _, letter = self._find_dead_letter(args["dead_letter_id"])
        return json_response({**letter.summary(), "original_queue": letter.original_queue,
                              "body": letter.body})

    def _local_dead_letters_replay(self, request: Request, identity: Any,
                                   args: dict[str, str]) -> Response:
        letters, letter = self._find_dead_letter(args["dead_letter_id"])
        try:
            letters.replay(letter.id)
        except ReplayFailed as exc:  # it stays where it was: say why, change nothing
            raise api.Problem(409, "Not replayed", "The letter could not be sent back and "
                              "stays in the dead-letter queue.", [{
                                  "field": "dead_letter_id", "rule": "not_replayable",
                                  "message": str(exc.outcome.problem)}]) from None
        log.info("gateway: %s replayed dead letter %s", identity.label, letter.id)
        return json_response({"replayed": letter.id, "to": letter.original_queue})
