"""A channel rests after failures in a row; a refusal for good of one address is not a failure of
the channel."""

from typing import Any, cast

from vigie_notification.adapters.webhook import SendResult
from vigie_notification.config import NotificationSettings
from vigie_notification.entrypoints.deliveries import Breaker, DeliveryWorker


def _worker() -> DeliveryWorker:
    settings = NotificationSettings(breaker_failures=3, breaker_cooldown_seconds=30.0)
    return DeliveryWorker(cast(Any, None), cast(Any, None), cast(Any, None), None, settings)


def _send(worker: DeliveryWorker, breaker: Breaker, result: SendResult) -> None:
    worker._sending += 1
    breaker.in_flight += 1
    worker._free(breaker)
    worker._sent(breaker, result)


def test_a_channel_rests_after_failures_in_a_row_and_a_success_wakes_it() -> None:
    worker, breaker = _worker(), Breaker()
    for _ in range(3):
        _send(worker, breaker, SendResult(delivered=False, error="HTTP 503"))
    assert breaker.resting_until > 0
    _send(worker, breaker, SendResult(delivered=True))
    assert (breaker.failures, breaker.resting_until, breaker.in_flight) == (0, 0.0, 0)


def test_addresses_refused_for_good_one_after_another_do_not_rest_the_channel() -> None:
    worker, breaker = _worker(), Breaker()
    _send(worker, breaker, SendResult(delivered=False, error="no answer before the timeout"))
    for _ in range(10):
        _send(worker, breaker, SendResult(delivered=False, error="SMTP 550: no such user", permanent=True))
    assert (breaker.failures, breaker.resting_until) == (1, 0.0)
    assert worker._sending == 0
