"""The housing service through the real broker, on SQLite and PostgreSQL.

The acceptance path: a report (RPC) -> outreach due -> no contact by the deadline (the
FileClock is moved; the service is restarted between two sweeps) -> escalation addressed
to the association and the tovholder (who is known from a coordination.pathway_opened
event published here) -> contact, payment plan -> de-escalated -> paid, closed; the
report per association over RPC. And bad input: InvalidInput naming field and rule,
nothing written, nothing published. intake is another service: its RPC proxy is replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.services import replace_dependencies
from sqlalchemy import select

from services.common.amqp import Publisher, event_exchange
from services.common.clock import FileClock
from services.common.db import make_engine
from services.common.migrate import upgrade
from services.housing.models import PathwayTovholder
from services.housing.service import HousingService
from tests.conftest import service_config
from tests.integration.housing.support import (
    ASSOCIATION,
    OTHER_ASSOCIATION,
    T0,
    Listener,
    all_text,
    count,
    outbox_messages,
    pathway_opened,
)
from tests.support.waiting import wait_for as _wait_for

pytestmark = pytest.mark.integration

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")
# The citizen's tovholder (m-social, from the pathway event below) and Fronten.
STAFF = {"kind": "staff", "id": "m-social", "roles": ["tovholder"]}
FRONTEN = {"kind": "staff", "id": "fronten-anne", "roles": ["fronten"]}


def wait_for(probe: Any, *, what: str) -> Any:
    # A generous deadline: a loaded CI machine restarts containers slowly.
    return _wait_for(probe, timeout=60.0, what=what)


@pytest.fixture
def housing(amqp_uri, db_url, tmp_path, container_factory):
    """Starts (and restarts) the housing service with a FileClock and a fake intake."""
    upgrade("housing", db_url)
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)
    config = service_config(amqp_uri, {"housing": db_url}, CLOCK=f"file:{clock.path}",
                            HOUSING_SWEEP_SECONDS=0.05)
    listener = Listener(amqp_uri)  # bound before anything is published
    engine = make_engine(db_url)

    class Running:
        def __init__(self) -> None:
            self.config, self.clock, self.listener, self.engine = config, clock, listener, engine
            self.container: Any = None
            self.intake: Any = None
            self.start()

        def start(self) -> None:
            self.container = container_factory(HousingService, config)
            self.intake = replace_dependencies(self.container, "intake")
            self.container.start()

        def restart(self, then: dt.datetime | None = None) -> None:
            self.container.stop()
            if then is not None:
                self.clock.set(then)  # time passes while the service is down
            self.start()

        def rpc(self, method: str, **kwargs: Any) -> Any:
            with ClusterRpcProxy(config) as cluster:
                return getattr(cluster.housing, method)(**kwargs)

    running = Running()
    yield running
    listener.close()
    engine.dispose()


def problems(err: pytest.ExceptionInfo[RemoteError]) -> dict[str, str]:
    assert err.value.exc_type == "InvalidInput", err.value
    return {e["field"]: e["rule"] for e in json.loads(err.value.value)["errors"]}


def report_args(**changes: Any) -> dict[str, Any]:
    args = {"actor": "partner:bf-ballerup", "source": "association",
            "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
            "citizen_ref": str(CITIZEN), "amount_dkk": "12500.00", "months_behind": 2,
            "pakrav_sent_on": "2025-03-03", "pakrav_deadline": "2025-03-20"}
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def test_report_escalates_on_the_legal_clock_to_association_and_tovholder(housing):
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        housing.rpc("register_association", actor="staff:fronten-anne", **association)

    # The citizen has a tovholder: coordination says so on the broker.
    opened = pathway_opened(CITIZEN, "m-social")
    publisher = Publisher(housing.config["AMQP_URI"])
    publisher.publish(opened.to_wire(), exchange=event_exchange("coordination"),
                      routing_key=opened.type, message_id=str(opened.message_id))
    publisher.close()

    def projection() -> list[Any]:
        with housing.engine.connect() as conn:
            return list(conn.execute(select(PathwayTovholder.__table__)).all())

    assert wait_for(projection, what="the tovholder projection")[0].tovholder_id == "m-social"

    reported = housing.rpc("report_arrears", **report_args())
    case_id = reported["case_id"]
    assert "citizen_ref" not in reported  # the association is shown its view only
    case = housing.rpc("get_case", actor=STAFF, case_id=case_id)
    assert case["level"] == "outreach_due" and case["has_tovholder"] is True
    # A second case whose earlier påkrav deadline makes it escalate first: it proves
    # that sweeps ran before the restart without firing the first case too early.
    marker = housing.rpc("report_arrears", **report_args(
        tenancy_ref="T-1-2", citizen_ref=str(uuid.uuid4()),
        pakrav_sent_on="2025-02-24", pakrav_deadline="2025-03-10"))

    outreach = wait_for(lambda: housing.listener.find(
        "housing.case_escalated", case_id=case_id, level="outreach_due"), what="outreach due")
    assert outreach[0]["payload"]["previous_level"] == "reported"
    assert {"addressee": "tovholder", "request": "contact_citizen"} in outreach[0]["payload"][
        "asks"]
    assert outreach[0]["payload"]["next_deadline"] == "2025-03-19T09:00:00+00:00"
    # Help applied for today would be decided after the påkrav deadline: flagged at once.
    assert wait_for(lambda: housing.listener.find(
        "housing.warning_flagged", case_id=case_id,
        flag="processing_exceeds_pakrav_deadline"), what="the warning")

    # First sweep window: past the marker's deadline, before the case's.
    housing.clock.set(dt.datetime(2025, 3, 12, 9, 0, tzinfo=dt.UTC))
    wait_for(lambda: housing.listener.find(
        "housing.case_escalated", case_id=marker["case_id"],
        level="escalated_to_association"), what="the marker's escalation")
    assert housing.rpc("get_case", actor=STAFF, case_id=case_id)["level"] == "outreach_due"

    # Restart between two sweeps; the outreach deadline passes while the service is down.
    housing.restart(then=dt.datetime(2025, 3, 19, 10, 0, tzinfo=dt.UTC))
    escalated = wait_for(lambda: housing.listener.find(
        "housing.case_escalated", case_id=case_id, level="escalated_to_association"),
        what="the escalation after the restart")
    assert len(escalated) == 1
    payload = escalated[0]["payload"]
    assert payload["previous_level"] == "outreach_due"
    assert payload["asks"] == [
        {"addressee": "association", "request": "hold_termination"},
        {"addressee": "tovholder", "request": "make_plan_or_apply_for_help"},
    ]
    assert payload["next_deadline"] is not None
    to_association = wait_for(lambda: housing.listener.find(
        "housing.partner_status", case_ref=case_id, status="hold_termination_requested"),
        what="the statement to the association")
    assert to_association[0]["payload"] == {
        "association_id": "bf-ballerup", "case_ref": case_id, "tenancy_ref": "T-1-1",
        "status": "hold_termination_requested", "requested": "hold_termination",
        "occurred_on": "2025-03-19", "hold_until": "2025-04-16", "eviction_date": None,
    }

    # The tovholder reaches the citizen and a payment plan is agreed: de-escalated.
    housing.clock.set(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC))
    housing.rpc("record_contact", actor=STAFF, case_id=case_id)
    housing.rpc("propose_payment_plan", actor=STAFF, case_id=case_id)
    agreed = housing.rpc("agree_payment_plan", actor=STAFF, case_id=case_id)
    assert agreed["level"] == "reported"
    down = wait_for(lambda: housing.listener.find(
        "housing.case_deescalated", case_id=case_id, previous_level="escalated_to_association"),
        what="the de-escalation")
    assert down[0]["payload"]["level"] == "reported"
    # A move down the ladder is never sent as an escalation.
    assert not housing.listener.find("housing.case_escalated", case_id=case_id,
                                     level="reported")
    statuses = [m["payload"]["status"] for m in housing.listener.find(
        "housing.partner_status", case_ref=case_id)]
    assert statuses[-3:] == ["contact_established", "payment_plan_proposed",
                             "payment_plan_agreed"]

    closed = housing.rpc("record_paid_in_full", actor=STAFF, case_id=case_id)
    assert closed["closure"] == "tenancy_kept" and closed["deadlines"] == []
    assert wait_for(lambda: housing.listener.find(
        "housing.case_closed", case_id=case_id, closure="tenancy_kept"), what="case_closed")
    assert wait_for(lambda: housing.listener.find(
        "housing.partner_status", case_ref=case_id, status="case_closed"), what="closed status")

    # The association's report for March.
    result = housing.rpc("association_report", actor=FRONTEN,
                         association_id="bf-ballerup", start="2025-03-01", end="2025-03-31")
    assert result["cases"] == 2
    assert result["levels_reached"]["escalated_to_association"] == 2
    assert result["evictions_avoided"] == 1
    assert result["cases_with_contact"] == 1
    assert result["median_seconds_to_first_contact"] == 15 * 24 * 3600

    # Nothing meant for the association ever named the citizen.
    for message in housing.listener.find("housing.partner_status"):
        assert str(CITIZEN) not in json.dumps(message)
    wait_for(lambda: count(housing.engine, "outbox", "where sent_at is null") == 0,
             what="every event published")


def test_bad_input_is_refused_by_field_and_rule_writing_and_publishing_nothing(housing):
    for association in (ASSOCIATION, OTHER_ASSOCIATION):
        housing.rpc("register_association", actor="staff:fronten-anne", **association)

    bad = [
        ({"amount_dkk": "-100"}, "amount_dkk", "housing.amount_not_positive"),
        ({"amount_dkk": "99999999"}, "amount_dkk", "housing.amount_absurd"),
        ({"amount_dkk": 12.5}, "amount_dkk", "schema"),
        ({"months_behind": 400}, "months_behind", "housing.months_behind_out_of_range"),
        ({"pakrav_sent_on": "2025-03-03", "pakrav_deadline": "2025-03-01"},
         "pakrav_deadline", "housing.pakrav_deadline_before_pakrav"),
        ({"association_id": "bf-unknown"}, "association_id",
         "housing.association_reports_for_itself"),
        ({"tenancy_ref": "T-7-1"}, "tenancy_ref",
         "housing.tenancy_not_registered_to_association"),
        ({"source": "landlord"}, "source", "schema"),
    ]
    for changes, field, rule in bad:
        with pytest.raises(RemoteError) as err:
            housing.rpc("report_arrears", **report_args(**changes))
        assert problems(err) == {field: rule}, changes
    with pytest.raises(RemoteError) as err:
        housing.rpc("report_arrears", **report_args(citizen_ref=None, match={"cpr": "x"}))
    assert problems(err) == {"match.cpr": "schema"}
    assert count(housing.engine, "arrears_cases") == 0
    assert count(housing.engine, "outbox") == 0
    assert count(housing.engine, "deadlines") == 0
    housing.intake.match_citizen.assert_not_called()

    # A tenant without a citizen_ref: intake matches; the CPR number is never stored.
    matched = uuid.uuid4()
    housing.intake.match_citizen.return_value = {"citizen_ref": str(matched)}
    case = housing.rpc("report_arrears", **report_args(
        citizen_ref=None, termination_on="2025-03-04",
        match={"cpr": "010190-1234", "name": "Hemmelig Lejer", "birth_date": "1990-01-01"}))
    housing.intake.match_citizen.assert_called_once_with(
        actor="service:housing", purpose="lejer med huslejerestance",
        cpr="010190-1234", name="Hemmelig Lejer", birth_date="1990-01-01")
    assert housing.rpc("get_case", actor=FRONTEN,
                       case_id=case["case_id"])["citizen_ref"] == str(matched)
    assert case["level"] == "termination_urgent"  # the report carried the ophævelse
    stored = all_text(housing.engine)
    assert "010190-1234" not in stored and "Hemmelig" not in stored

    # De-escalation that skips a step: paid in full while the ophævelse stands.
    before = (outbox_messages(housing.engine), housing.rpc("get_case", actor=FRONTEN,
                                                           case_id=case["case_id"]))
    with pytest.raises(RemoteError) as err:
        housing.rpc("record_paid_in_full", actor=FRONTEN, case_id=case["case_id"])
    assert problems(err) == {"termination": "housing.deescalation_skips_step"}
    assert (outbox_messages(housing.engine), housing.rpc("get_case", actor=FRONTEN,
                                                         case_id=case["case_id"])) == before
    housing.rpc("set_eviction_date", actor=FRONTEN, case_id=case["case_id"],
                eviction_date="2025-04-10")
    before = (outbox_messages(housing.engine), housing.rpc("get_case", actor=FRONTEN,
                                                           case_id=case["case_id"]))
    with pytest.raises(RemoteError) as err:
        housing.rpc("withdraw_termination", actor=FRONTEN, case_id=case["case_id"])
    assert problems(err) == {"termination": "housing.deescalation_skips_step"}
    after = (outbox_messages(housing.engine), housing.rpc("get_case", actor=FRONTEN,
                                                          case_id=case["case_id"]))
    assert after == before

    with pytest.raises(RemoteError) as err:
        housing.rpc("record_contact", actor=FRONTEN, case_id=str(uuid.uuid4()))
    assert err.value.exc_type == "NotFoundError"
