"""The runtime kit's pure parts: error classification, field paths, trace propagation, logs."""

import json
import logging
import sys
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import sqlalchemy.exc
from aiokafka.errors import KafkaConnectionError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from vigie_contracts.events import (
    Channel,
    DeliveryOutcome,
    DispatchedData,
    NotificationDispatched,
    Outcome,
    Recipient,
    RecipientKind,
)
from vigie_kit.errors import Retry, is_transient
from vigie_kit.http import field_path
from vigie_kit.outbox import outbox_message
from vigie_kit.telemetry import JsonLogFormatter, context_from_headers


def _wrapped(kind: type[sqlalchemy.exc.DBAPIError], error: Exception) -> sqlalchemy.exc.DBAPIError:
    """``error`` as SQLAlchemy's asyncpg dialect hands it on: the dialect's own error raised from
    the driver's, wrapped (tests/service/test_errors.py has the real ones, from a real server)."""
    adapted = Exception(type(error).__name__)
    adapted.__cause__ = error
    return kind("SELECT 1", {}, adapted)


def test_outages_are_transient_and_bad_data_is_not() -> None:
    assert is_transient(Retry("not yet"))
    assert is_transient(ConnectionRefusedError())
    assert is_transient(KafkaConnectionError())
    assert is_transient(_wrapped(sqlalchemy.exc.OperationalError, asyncpg.ConnectionFailureError()))  # 08006
    assert is_transient(_wrapped(sqlalchemy.exc.OperationalError, asyncpg.AdminShutdownError()))  # 57P01
    assert is_transient(_wrapped(sqlalchemy.exc.DBAPIError, asyncpg.SerializationError()))  # 40001
    assert not is_transient(_wrapped(sqlalchemy.exc.IntegrityError, asyncpg.UniqueViolationError()))  # 23505
    assert not is_transient(_wrapped(sqlalchemy.exc.DataError, asyncpg.StringDataRightTruncationError()))  # 22001
    assert not is_transient(ValueError("bad"))
    assert not is_transient(KeyError("x"))


def test_the_drivers_own_errors_are_told_apart_the_same_way() -> None:
    assert is_transient(asyncpg.AdminShutdownError())  # 57P01
    assert is_transient(asyncpg.SerializationError())  # 40001
    assert is_transient(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert is_transient(asyncpg.InterfaceError("cannot perform operation: connection is closed"))
    assert is_transient(asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"))
    assert not is_transient(asyncpg.UniqueViolationError())  # 23505
    assert not is_transient(asyncpg.StringDataRightTruncationError())  # 22001
    assert not is_transient(asyncpg.DataError("invalid input for query argument $1"))


def test_field_paths_read_as_a_partner_writes_them() -> None:
    assert field_path(("body", "indicators", 2, "value")) == "indicators[2].value"
    assert field_path(("body", "structure", "finess")) == "structure.finess"
    assert field_path(("body",)) == "(body)"
    assert field_path(("path", "declaration_id")) == "declaration_id"


def _event() -> NotificationDispatched:
    now = datetime.now(UTC)
    return NotificationDispatched(
        event_id=uuid4(),
        occurred_at=now,
        producer="tests",
        declaration_id=uuid4(),
        data=DispatchedData(
            reference="VIG-2026-000001",
            revision=1,
            deliveries=[
                DeliveryOutcome(
                    delivery_id=uuid4(),
                    recipient=Recipient(kind=RecipientKind.ars, code="ars-idf", name="ARS Île-de-France"),
                    channel=Channel.webhook,
                    outcome=Outcome.sent,
                    attempt=1,
                    at=now,
                )
            ],
        ),
    )


def test_an_outbox_row_carries_its_key_topic_and_the_current_trace() -> None:
    tracer = TracerProvider().get_tracer("tests")
    event = _event()
    with tracer.start_as_current_span("work") as span:
        row = outbox_message(event)
    assert row["aggregate_id"] == str(event.declaration_id)
    assert row["topic"] == "notification.dispatched.v2"
    assert row["headers"]["event_id"] == str(event.event_id)
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert row["headers"]["traceparent"].split("-")[1] == trace_id
    # and the relay or a consumer continues that very trace from the row's headers
    continued = trace.get_current_span(context_from_headers(row["headers"])).get_span_context()
    assert continued.trace_id == span.get_span_context().trace_id
    kafka_style = [(key, value.encode()) for key, value in row["headers"].items()]
    assert trace.get_current_span(context_from_headers(kafka_style)).get_span_context().span_id == (
        span.get_span_context().span_id
    )


def test_log_lines_are_json_with_the_trace_and_the_declaration() -> None:
    tracer = TracerProvider().get_tracer("tests")
    formatter = JsonLogFormatter("declaration")
    record = logging.LogRecord("vigie", logging.WARNING, __file__, 1, "retry %s", ("x",), None)
    record.declaration_id = "d-1"
    with tracer.start_as_current_span("work") as span:
        line = json.loads(formatter.format(record))
    assert line["message"] == "retry x"
    assert line["service"] == "declaration"
    assert line["declaration_id"] == "d-1"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


def test_log_lines_never_carry_secrets_or_social_security_numbers() -> None:
    formatter = JsonLogFormatter("notification")
    message = (
        "request with Authorization: Bearer vg_live_s3cr3t failed; "
        "connecting to postgresql+asyncpg://notification:Hunter2pass@127.0.0.1:5432/notification; "
        'smtp password=Tr0ub4dor&3 {"secret": "whsec_abc"} token: abc.def '
        "patient 2 84 05 2A 123 456 32 was mentioned"
    )
    record = logging.LogRecord("vigie", logging.ERROR, __file__, 1, "%s", (message,), None)
    try:
        raise RuntimeError("api_key=ak_123456 refused")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    for secret in ("vg_live_s3cr3t", "Hunter2pass", "Tr0ub4dor", "whsec_abc", "abc.def", "ak_123456", "123 456 32"):
        assert secret not in line, secret
    entry = json.loads(line)
    assert "Bearer ***" in entry["message"]
    assert "notification:***@127.0.0.1" in entry["message"]
    assert "[NIR masqué]" in entry["message"]
    assert "127.0.0.1:5432/notification" in entry["message"], "only the secret is masked"
