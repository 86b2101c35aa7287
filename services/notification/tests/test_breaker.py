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


def test_a_rested_channel_is_probed_by_one_send_and_rests_longer_each_time_the_probe_fails() -> None:
    breaker = Breaker()

    def fail(now: float) -> None:
        breaker.failed(threshold=3, first_rest=1.0, longest_rest=30.0, now=now)

    for _ in range(3):
        fail(100.0)
    assert (breaker.trips, breaker.resting_until) == (1, 101.0)
    assert breaker.room(4, now=100.5) == 0, "resting"
    assert breaker.room(4, now=101.0) == 1, "half-open: one probe"
    breaker.in_flight = 1
    assert breaker.room(4, now=101.0) == 0, "the probe is under way"
    breaker.in_flight = 0
    for trips, rested in [(2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 30.0), (7, 30.0)]:
        fail(200.0)
        assert (breaker.trips, breaker.resting_until) == (trips, 200.0 + rested)
    breaker.succeeded()
    assert (breaker.failures, breaker.trips, breaker.resting_until, breaker.room(4, now=0.0)) == (0, 0, 0.0, 4)
