"""Which declarations and revisions the intake takes on: a whole body, in time, when there is room.

Every ``POST`` under ``/v1/declarations`` has its body read here first, before anything else is
done for it: a body over the size limit is refused (413) without being read further, one that does
not arrive in time is refused (408), and a client that hangs up is let go. Only then does the
request count among those in progress, so a slow or stalled sender holds no place.

Beyond ``limit`` requests in progress the next one is answered ``503`` with ``Retry-After`` at
once, before the credential is even looked up: taking more than the service can do only makes every
request late, the ones already accepted included, and holds them all in memory meanwhile. A
refused request left no trace, so the partner sends it again; its Idempotency-Key makes that safe.
"""

import asyncio
import logging

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie_kit.http import problem

log = logging.getLogger(__name__)

IN_PROGRESS = Gauge("vigie_intake_requests_in_progress", "Declarations and revisions being handled now")
SHED = Counter("vigie_intake_requests_shed", "Declarations and revisions refused (503) for want of room")


class IntakeAdmission:
    """ASGI middleware guarding ``POST /v1/declarations[/{id}/revisions]``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_seconds: float, limit: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_seconds = body_seconds
        self.limit = limit
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/v1/declarations"):
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.body_seconds):
                body = await self._body(scope, receive)
        except _Refused as refusal:
            await refusal.answer(scope, receive, send)
            return
        except TimeoutError:
            detail = f"the body did not arrive within {self.body_seconds:g} s; nothing was recorded"
            await problem(408, detail, headers={"Connection": "close"})(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            SHED.inc()
            detail = f"the service has {self.limit} requests in progress, its most; nothing was recorded, try again"
            await problem(503, detail, headers={"Retry-After": "1"})(scope, receive, send)
            return
        self.in_progress += 1
        IN_PROGRESS.inc()
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self.in_progress -= 1
            IN_PROGRESS.dec()

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise _Refused(413, f"the body is {int(value)} bytes; the limit is {limit} bytes")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # Nobody is left to read an answer; nothing was recorded, and nothing is wrong here.
                log.info("%s %s: the client hung up before sending its whole request", scope["method"], scope["path"])
                raise _Refused(400, "the request ended before its body was complete; nothing was recorded")
            body += message.get("body", b"")
            if len(body) > limit:
                raise _Refused(413, f"the body exceeds the limit of {limit} bytes")
            if not message.get("more_body", False):
                return bytes(body)


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        # The connection stays open: the server reads and drops the rest of a body refused for
        # its size, whereas closing on unread data would reset it before the client reads why.
        self.answer = problem(status, detail)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, as one message; then whatever the client sends next (its hang-up)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
