"""Delivery identity, retry timing, and the events that tell outcomes."""

import random
from datetime import timedelta
from uuid import UUID, uuid4

from opentelemetry.sdk.trace import TracerProvider

from vigie_contracts.events import Channel, NotificationDispatched, Outcome
from vigie_notification.adapters.ledger import Claimed
from vigie_notification.adapters.webhook import signature
from vigie_notification.domain.delivery import delivery_id, retry_delay
from vigie_notification.handlers import attempt_outcome, dispatched_events


def test_one_delivery_id_per_revision_recipient_and_channel() -> None:
    declaration = uuid4()
    first = delivery_id(declaration, 1, "ars-idf", "webhook")
    assert first == delivery_id(declaration, 1, "ars-idf", "webhook")
    others = {
        delivery_id(declaration, 2, "ars-idf", "webhook"),
        delivery_id(declaration, 1, "cert-sante", "webhook"),
        delivery_id(declaration, 1, "ars-idf", "email"),
        delivery_id(uuid4(), 1, "ars-idf", "webhook"),
    }
    assert first not in others
    assert len(others) == 4


def test_retry_delay_grows_exponentially_within_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(600.0, 2.0 * 2 ** (attempt - 1))
        delays = [retry_delay(attempt, base=2.0, cap=600.0, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Reference value computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
    assert signature(b"key", "1700000000", b'{"a":1}') == (
        "v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
    )


def _claimed(declaration_id: UUID, revision: int, recipient: str, channel: str) -> Claimed:
    return Claimed(
        id=delivery_id(declaration_id, revision, recipient, channel),
        declaration_id=declaration_id,
        revision=revision,
        reference="VIG-2026-000042",
        recipient_kind="cert_sante" if recipient == "cert-sante" else "ars",
        recipient_code=recipient,
        recipient_name=recipient.upper(),
        channel=channel,
        address=None,
        attempts=1,
        payload={},
        trace_headers={},
    )


def test_outcomes_recorded_together_are_told_in_one_event_per_declaration_revision() -> None:
    tracer = TracerProvider().get_tracer("tests")
    one, other = uuid4(), uuid4()
    attempts, spans = [], []
    for declaration, revision, recipient, channel, delivered in [
        (one, 1, "ars-idf", "webhook", True),
        (other, 1, "ars-bre", "webhook", True),
        (one, 1, "cert-sante", "email", False),
        (one, 2, "ars-idf", "webhook", True),
        (one, 1, "ars-idf", "email", True),
    ]:
        with tracer.start_as_current_span("notify") as span:
            spans.append(span)
            attempts.append(
                attempt_outcome(
                    _claimed(declaration, revision, recipient, channel),
                    delivered=delivered,
                    error=None if delivered else "HTTP 503",
                    give_up=False,
                    retry_in=timedelta(seconds=2),
                )
            )

    rows = dispatched_events(attempts)

    events = [NotificationDispatched.model_validate(row["payload"]) for row in rows]
    told = {
        (e.declaration_id, e.data.revision): [(d.recipient.code, d.channel, d.outcome) for d in e.data.deliveries]
        for e in events
    }
    assert told == {
        (one, 1): [
            ("ars-idf", Channel.webhook, Outcome.sent),
            ("cert-sante", Channel.email, Outcome.retrying),
            ("ars-idf", Channel.email, Outcome.sent),
        ],
        (other, 1): [("ars-bre", Channel.webhook, Outcome.sent)],
        (one, 2): [("ars-idf", Channel.webhook, Outcome.sent)],
    }
    assert [row["aggregate_id"] for row in rows] == [str(one), str(other), str(one)]
    # Each event continues the trace of the first attempt it tells.
    first = {spans[0], spans[1], spans[3]}
    assert [row["headers"]["traceparent"].split("-")[2] for row in rows] == [
        format(span.get_span_context().span_id, "016x") for span in sorted(first, key=spans.index)
    ]
    assert attempts[2].next_attempt_at is not None
    assert attempts[0].next_attempt_at is None
