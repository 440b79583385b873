"""Log records are JSON lines carrying the correlation and message ids in scope."""

from __future__ import annotations

import json
import logging

from services.common import logs


def test_json_lines_carry_correlation_and_message_ids():
    record = logging.LogRecord("samspil.test", logging.WARNING, __file__, 1,
                               "outbox row %s not published", ("42",), None)
    with logs.bind(correlation="pathway-7", message="m-1"):
        logs.ContextFilter().filter(record)
    record.queue = "evt-x"  # an `extra=` field
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "outbox row 42 not published"
    assert line["level"] == "WARNING"
    assert (line["correlation_id"], line["message_id"]) == ("pathway-7", "m-1")
    assert line["queue"] == "evt-x"


def test_ids_are_unset_outside_a_message():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    logs.ContextFilter().filter(record)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["correlation_id"] is None and line["message_id"] is None


def test_no_password_of_any_failover_url_reaches_a_log_line():
    uris = "amqp://intake:s3cret@rabbit-1:5672/samspil;amqp://intake:s3cret@rabbit-2:5672/samspil"
    assert logs.redact_url(uris) == ("amqp://intake:***@rabbit-1:5672/samspil;"
                                     "amqp://intake:***@rabbit-2:5672/samspil")
    # A library's own message (nameko: "Error connecting to broker at <uri>").
    record = logging.getLogRecordFactory()("nameko", logging.ERROR, __file__, 1,
                                           "Error connecting to broker at %s", (uris,), None)
    assert "s3cret" not in record.getMessage()
    assert record.getMessage().count("intake:***@") == 2
    assert logs.mask_passwords("postgresql://postgres@db/x") == "postgresql://postgres@db/x"
