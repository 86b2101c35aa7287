"""A channel rests after failures in a row, is probed by one send once rested, and rests longer
each time the probe fails; a refusal for good of one address is not a failure of the channel."""

from vigie_notification.domain.delivery import Breaker, BreakerPolicy, RetryPolicy

POLICY = BreakerPolicy(failures=3, first_rest=1.0, longest_rest=30.0)


def test_a_channel_rests_after_failures_in_a_row_and_a_success_wakes_it() -> None:
    breaker = Breaker(POLICY)
    for _ in range(3):
        breaker.learn(delivered=False, permanent=False, now=100.0)
    assert breaker.resting_until > 100.0
    assert breaker.room(4, now=100.0) == 0
    breaker.learn(delivered=True, permanent=False, now=100.5)
    assert (breaker.failures, breaker.resting_until, breaker.room(4, now=100.5)) == (0, 0.0, 4)


def test_addresses_refused_for_good_one_after_another_do_not_rest_the_channel() -> None:
    breaker = Breaker(POLICY)
    breaker.learn(delivered=False, permanent=False, now=100.0)  # no answer before the timeout
    for _ in range(10):
        breaker.learn(delivered=False, permanent=True, now=100.0)  # SMTP 550: no such user
    assert (breaker.failures, breaker.resting_until) == (1, 0.0)


def test_a_rested_channel_is_probed_by_one_send_and_rests_longer_each_time_the_probe_fails() -> None:
    breaker = Breaker(POLICY)
    for _ in range(3):
        breaker.learn(delivered=False, permanent=False, now=100.0)
    assert (breaker.trips, breaker.resting_until) == (1, 101.0)
    assert breaker.room(4, now=100.5) == 0, "resting"
    assert breaker.room(4, now=101.0) == 1, "half-open: one probe"
    breaker.in_flight = 1
    assert breaker.room(4, now=101.0) == 0, "the probe is under way"
    breaker.in_flight = 0
    for trips, rested in [(2, 2.0), (3, 4.0), (4, 8.0), (5, 16.0), (6, 30.0), (7, 30.0)]:
        breaker.learn(delivered=False, permanent=False, now=200.0)
        assert (breaker.trips, breaker.resting_until) == (trips, 200.0 + rested)
    breaker.learn(delivered=True, permanent=False, now=300.0)
    assert (breaker.failures, breaker.trips, breaker.resting_until, breaker.room(4, now=0.0)) == (0, 0, 0.0, 4)


def test_a_delivery_is_given_up_when_refused_for_good_or_after_its_last_attempt() -> None:
    retries = RetryPolicy(max_attempts=16, base_seconds=2.0, cap_seconds=600.0)
    assert not retries.gives_up(1, permanent=False)
    assert retries.gives_up(1, permanent=True)
    assert not retries.gives_up(15, permanent=False)
    assert retries.gives_up(16, permanent=False)
