"""Who calls: the secret a caller presents and its hash as every service keeps it, and a brake on
failed attempts from one client address, so that guessing a secret costs more than it can win.

Secrets travel in the ``Authorization`` header, never in a URL: URLs end up in logs, proxies and
traces, so a request that puts one in its query is refused.
"""

import hashlib
import hmac
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from .http import Problem
from .telemetry import SECRET_NAMES


def secret_sha256(secret: str) -> bytes:
    """What a service keeps of a secret: its SHA-256. Secrets are 256 random bits, so a fast hash
    leaves nothing to guess; a slow one would only slow every request down."""
    return hashlib.sha256(secret.encode()).digest()


def same_secret(secret: str, expected_sha256: bytes) -> bool:
    return hmac.compare_digest(secret_sha256(secret), expected_sha256)


def bearer_secret(connection: HTTPConnection) -> str | None:
    """The secret of ``Authorization: Bearer <secret>``, or None when there is none."""
    header = connection.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


class SecretsStayOutOfUrls:
    """Refuse (400) a request whose query names a secret (RFC 6750 §2.3 allows ``?access_token=``;
    Vigie does not), before any route sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            named = sorted(SECRET_NAMES.intersection(name.lower() for name in HTTPConnection(scope).query_params))
            if named:
                refusal = Problem(
                    400,
                    f"a credential goes in the Authorization header, never in a URL ({', '.join(named)}):"
                    " URLs are written to logs and traces. Nothing was served; revoke that credential.",
                )
                await refusal.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def client_address(connection: HTTPConnection) -> str:
    """The caller's address as the server saw it (behind a proxy, the server takes it from
    ``X-Forwarded-For`` only for the proxies it is told to trust: ``--forwarded-allow-ips``)."""
    return connection.client.host if connection.client else "unknown"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FailedAttempts:
    """Failed authentications per client address: ``allowed`` of them at once, given back over
    ``per_seconds``. Past that, the address is told to wait (429) before any credential it sends
    is even looked at, right or wrong: otherwise a guesser would learn from the answers.

    In this process: each instance of a service brakes the attempts it sees. Addresses are kept
    as long as they have failed recently, at most ``capacity`` of them (the oldest go first)."""

    def __init__(self, allowed: int = 10, per_seconds: float = 60.0, capacity: int = 100_000) -> None:
        self.allowed = allowed
        self.per_seconds = per_seconds
        self.capacity = capacity
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, address: str, now: float) -> _Bucket | None:
        bucket = self._buckets.get(address)
        if bucket is None:
            return None
        bucket.tokens = min(
            float(self.allowed), bucket.tokens + (now - bucket.updated) * self.allowed / self.per_seconds
        )
        bucket.updated = now
        if bucket.tokens >= self.allowed:
            del self._buckets[address]  # forgiven: nothing to remember
            return None
        return bucket

    def wait_seconds(self, address: str, now: float | None = None) -> int:
        """0 if ``address`` may try, else how long it must wait."""
        now = time.monotonic() if now is None else now
        bucket = self._bucket(address, now)
        if bucket is None or bucket.tokens >= 1.0:
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) * self.per_seconds / self.allowed))

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        bucket = self._bucket(address, now)
        if bucket is None:
            bucket = self._buckets[address] = _Bucket(tokens=float(self.allowed), updated=now)
            while len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(address)
        bucket.tokens = max(0.0, bucket.tokens - 1.0)

    def check(self, connection: HTTPConnection) -> None:
        """Refuse (429) a caller whose address failed too often of late."""
        wait = self.wait_seconds(client_address(connection))
        if wait:
            raise Problem(
                429,
                f"too many failed authentications from your address; try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )
