"""Which declarations and revisions the intake takes on: a whole body, in time, when there is room.

Every ``POST`` under ``/v1/declarations`` has its body read here first, before anything else is
done for it: a body over the size limit is refused (413) without being read further, one that does
not arrive in time is refused (408), and a client that hangs up is let go. Only then does the
request count among those in progress, so a slow or stalled sender holds no place.

Beyond ``limit`` requests in progress the next ones wait for a place, at most ``waiting`` of them
and for at most ``wait_seconds`` each: a machine busy for a moment (a burst of events behind the
intake, a pause of the database) delays a partner rather than refusing it. A place that frees goes to
the newest waiting, and a newcomer to a full room takes the place of the oldest, which is refused:
in a flood the room is full all along, and serving it oldest first would make every request taken
wait its whole turn, whereas newest first they are taken at once and the refused learn it within a
moment (adaptive LIFO, as request queues under overload do). A request refused is answered ``503``
with ``Retry-After``, before the credential is even looked up: taking on more than the service can
do only makes every request late, the ones already accepted included, and holds them all in memory
meanwhile. A refused request left no trace, so the partner sends it again; its Idempotency-Key
makes that safe.
"""

import asyncio
import logging
from collections import deque

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie_kit.http import problem

log = logging.getLogger(__name__)

IN_PROGRESS = Gauge("vigie_intake_requests_in_progress", "Declarations and revisions being handled now")
WAITING = Gauge("vigie_intake_requests_waiting", "Declarations and revisions waiting for a place")
SHED = Counter("vigie_intake_requests_shed", "Declarations and revisions refused (503) for want of room")


class IntakeAdmission:
    """ASGI middleware guarding ``POST /v1/declarations[/{id}/revisions]``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_seconds: float,
        limit: int,
        waiting: int,
        wait_seconds: float,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_seconds = body_seconds
        self.limit = limit
        self.waiting_limit = waiting
        self.wait_seconds = wait_seconds
        self.in_progress = 0
        # Each waiting request's future, oldest first: True once a finished request hands it its
        # place, False once a newer one takes its place in the room.
        self._waiting: deque[asyncio.Future[bool]] = deque()

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
        no_place = await self._place()
        if no_place is not None:
            SHED.inc()
            await problem(503, no_place, headers={"Retry-After": "1"})(scope, receive, send)
            return
        try:
            await self.app(scope, _replay(body, receive), send)
        finally:
            self._release()

    async def _place(self) -> str | None:
        """Take a place, at once or once one is handed over while waiting; or say why not."""
        # A place is handed over to the waiting before it frees: free places and someone still
        # waiting (not one that gave up and has yet to leave the room) never go together.
        if self.in_progress < self.limit and all(w.done() for w in self._waiting):
            self._count(+1)
            return None
        full = f"the service has {self.limit} requests in progress and {self.waiting_limit} waiting, its most"
        if self.waiting_limit == 0:
            return f"{full}; nothing was recorded, try again"
        while len(self._waiting) >= self.waiting_limit:
            oldest = self._waiting.popleft()
            if not oldest.done():
                oldest.set_result(False)  # it gives way
        handed: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        WAITING.inc()
        try:
            placed = await asyncio.wait_for(handed, self.wait_seconds)
        except TimeoutError:
            return f"no place freed within {self.wait_seconds:g} s; nothing was recorded, try again"
        except BaseException:
            if handed.done() and not handed.cancelled() and handed.result():
                self._release()  # handed a place just as it was cancelled: pass it on
            raise
        finally:
            WAITING.dec()
            if handed in self._waiting:
                self._waiting.remove(handed)
        return None if placed else f"{full}, newer requests first; nothing was recorded, try again"

    def _release(self) -> None:
        """A request is done: its place goes to the newest waiting, or is free."""
        while self._waiting:
            handed = self._waiting.pop()
            if not handed.done():
                handed.set_result(True)
                return
        self._count(-1)

    def _count(self, change: int) -> None:
        self.in_progress += change
        IN_PROGRESS.set(self.in_progress)

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
