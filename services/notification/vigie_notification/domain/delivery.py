"""How deliveries are identified, when a failed one is tried again or given up, and when a
recipient's channel rests: the delivery worker asks, these decide."""

import random
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID, uuid5

_DELIVERY_NAMESPACE = UUID("9b0a3c4e-5f1d-4e8a-9c41-6d2b7e0f8a13")


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    retrying = "retrying"
    failed = "failed"


def delivery_id(declaration_id: UUID, revision: int, recipient_code: str, channel: str) -> UUID:
    """One id per declaration revision, recipient and channel: the exactly-once key, sent to
    the receiver as ``Vigie-Event-Id`` so that an ambiguous send is deduplicated there."""
    return uuid5(_DELIVERY_NAMESPACE, f"{declaration_id}/{revision}/{recipient_code}/{channel}")


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff, jittered between half and
    all of it, so that deliveries failing together do not all come back together."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float

    def gives_up(self, attempts: int, *, permanent: bool) -> bool:
        """A refusal for good (an unknown address, 410 Gone) ends a delivery at once; any other
        failure, once it has been tried ``max_attempts`` times (then ``deliveries replay``)."""
        return permanent or attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        return retry_delay(attempts, base=self.base_seconds, cap=self.cap_seconds, rng=rng)


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int  # in a row, before the channel rests
    first_rest: float  # seconds; each failed probe doubles it ...
    longest_rest: float  # ... up to this


@dataclass
class Breaker:
    """The state of one recipient's channel, in one worker: closed (sends go), open (resting
    after failures in a row), or half-open (rested: one send probes whether the channel is back).

    A probe that fails rests the channel twice as long as before, up to the longest rest; one
    that succeeds closes it. A receiver back after an outage is found within the rest then in
    force (a second after the first failures), not after the whole cool-down."""

    policy: BreakerPolicy
    failures: int = 0
    resting_until: float = 0.0
    in_flight: int = 0
    # Times the channel rested in a row, with no success in between: its next rest doubles.
    trips: int = 0

    def room(self, limit: int, now: float) -> int:
        """How many more sends the channel may take: none while it rests, one probe once rested,
        ``limit`` less those in flight otherwise."""
        if self.resting_until > now:
            return 0
        if self.trips:
            return max(1 - self.in_flight, 0)
        return max(limit - self.in_flight, 0)

    def learn(self, *, delivered: bool, permanent: bool, now: float) -> None:
        """What the channel learns from a send. A refusal for good is a working server's answer
        about one delivery: it neither trips the breaker nor resets it. Otherwise declarants'
        addresses refused one after another (every declarant shares the one channel) would rest
        the acknowledgements of everyone else."""
        if delivered:
            self.failures = self.trips = 0
            self.resting_until = 0.0
        elif not permanent:
            self.failures += 1
            if self.trips or self.failures >= self.policy.failures:
                self.trips += 1
                rest = self.policy.first_rest * 2 ** (self.trips - 1)
                self.resting_until = now + min(rest, self.policy.longest_rest)
