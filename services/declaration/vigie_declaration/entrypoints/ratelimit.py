"""Requests per minute per credential: a token bucket per credential, in this process.

With several instances of the service, each enforces the limit on its own share of the traffic,
which is what a load balancer spreading requests evenly gives anyway.
"""

import math
import time
from dataclasses import dataclass
from uuid import UUID


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, default_per_minute: int) -> None:
        self.default_per_minute = default_per_minute
        self._buckets: dict[UUID, _Bucket] = {}

    def wait_seconds(self, credential: UUID, per_minute: int | None, now: float | None = None) -> int:
        """0 if the request may proceed (and it is counted), else how long to wait."""
        rate = per_minute or self.default_per_minute
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(credential)
        if bucket is None:
            bucket = self._buckets[credential] = _Bucket(tokens=float(rate), updated=now)
        bucket.tokens = min(float(rate), bucket.tokens + (now - bucket.updated) * rate / 60.0)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) * 60.0 / rate))
