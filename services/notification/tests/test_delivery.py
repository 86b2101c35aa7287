"""Delivery identity and retry timing."""

import random
from uuid import uuid4

from vigie_notification.adapters.webhook import signature
from vigie_notification.domain.delivery import delivery_id, retry_delay


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
