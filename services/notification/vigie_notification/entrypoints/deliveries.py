"""The delivery worker: takes due deliveries from the ledger and sends each on its own.

Durable by construction: what is due lives in PostgreSQL, not in memory. A restart loses no
pending retry, and a send interrupted by a crash is retried once its lease runs out (the receiver
deduplicates on the notification id).

One recipient never holds up the others: each recipient's channel has a small concurrency limit
and a circuit breaker, so a receiver that hangs occupies a few slots, then rests, while the
deliveries to everyone else go on.

The deliveries of one declaration revision claimed together are sent at once, each on its own,
and their outcomes written in one transaction, so that one ``notification.dispatched`` event
tells them all rather than one event each (every event is consumed by two services).
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from vigie_contracts.events import Channel, RecipientKind
from vigie_contracts.webhook import WebhookNotification
from vigie_kit.db import GroupCommit, driver, unit_of_work
from vigie_kit.service import Service
from vigie_kit.telemetry import DECLARATION_ID, DECLARATION_REFERENCE, context_from_headers

from ..adapters.email import EmailSender, compose
from ..adapters.ledger import Claimed, claim_due, next_due_in, waiting
from ..adapters.webhook import SendResult, WebhookSender
from ..config import NotificationSettings
from ..domain.delivery import Breaker, BreakerPolicy, DeliveryStatus, RetryPolicy
from ..domain.directory import Directory, InvalidDirectory, load_directory
from ..domain.messages import acknowledgement, agency_message
from ..handlers import Attempt, attempt_outcome, record_attempts
from .metrics import DEAD_LETTERED, DELIVERIES_PENDING, DELIVERY_ATTEMPTS, RETRIES_PENDING

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_CHANNEL = "vigie_deliveries"


class Together:
    """The outcomes of a revision's deliveries claimed at once, queued for one transaction: once
    each has its outcome, or ``window`` seconds after the first, whichever comes first, so that a
    receiver that hangs holds back the record of the others by no more than that."""

    def __init__(
        self, outcomes: GroupCommit[asyncpg.Connection, Attempt, bool], *, expected: int, window: float
    ) -> None:
        self.outcomes = outcomes
        self.window = window
        self._expected = expected  # outcomes not yet queued
        self._ready: list[tuple[Attempt, asyncio.Future[asyncio.Future[bool]]]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def record(self, attempt: Attempt) -> bool:
        """Whether ``attempt``'s outcome was recorded, once it is committed (see ``record_attempts``)."""
        loop = asyncio.get_running_loop()
        queued: asyncio.Future[asyncio.Future[bool]] = loop.create_future()
        self._ready.append((attempt, queued))
        if len(self._ready) == self._expected:
            self._queue()
        elif self._timer is None:
            self._timer = loop.call_later(self.window, self._queue)
        return await (await queued)

    def _queue(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        ready, self._ready = self._ready, []
        self._expected -= len(ready)
        for (_, queued), committed in zip(ready, self.outcomes.enqueue([a for a, _ in ready]), strict=True):
            queued.set_result(committed)


class LiveDirectory:
    """The directory file, read again when it changes; a change that does not validate is
    refused and the directory in use stays."""

    def __init__(self, path: Path, *, email_enabled: bool) -> None:
        self.path = path
        self.email_enabled = email_enabled
        self.current = self._read()
        self._stamp = self._mtime()

    def _mtime(self) -> float:
        with contextlib.suppress(OSError):
            return self.path.stat().st_mtime
        return 0.0

    def _read(self) -> Directory:
        directory = load_directory(self.path)
        directory.check_reachable(email_enabled=self.email_enabled)
        return directory

    def refresh(self) -> Directory:
        stamp = self._mtime()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.current = self._read()
                log.info("recipients directory reloaded from %s", self.path)
            except InvalidDirectory as error:
                log.error("recipients directory change refused, keeping the previous one: %s", error)
        return self.current


class DeliveryWorker:
    def __init__(
        self,
        service: Service,
        directory: LiveDirectory,
        webhooks: WebhookSender,
        email: EmailSender | None,
        settings: NotificationSettings,
    ) -> None:
        self.service = service
        self.directory = directory
        self.webhooks = webhooks
        self.email = email
        self.settings = settings
        self.breakers: dict[str, Breaker] = {}
        self.breaker_policy = BreakerPolicy(
            failures=settings.breaker_failures,
            first_rest=settings.breaker_probe_seconds,
            longest_rest=settings.breaker_cooldown_seconds,
        )
        self.retries = RetryPolicy(settings.max_attempts, settings.retry_base_seconds, settings.retry_max_seconds)
        self.outcomes = GroupCommit(lambda: driver(service.engine), record_attempts)
        self._wakeup = asyncio.Event()
        # Whether the last claim left due deliveries behind for want of room: then a delivery
        # that finishes frees room worth claiming again at once.
        self._held_back = False
        self._in_flight: set[asyncio.Task[None]] = set()
        # Deliveries being sent: a delivery waiting for its outcome to be recorded with its
        # siblings' (``Together``) no longer takes a place among those sent at once.
        self._sending = 0
        self._stopping = False

    async def drain(self) -> None:
        """Take no new delivery and let those under way finish, so that a restart does not
        send again what was already sent."""
        self._stopping = True
        self._wakeup.set()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def measure(self) -> None:
        """Set the gauges of what waits to be sent (read at each scrape of ``/metrics``)."""
        async with unit_of_work(self.service.sessions) as session:
            counts = await waiting(session)
        DELIVERIES_PENDING.set(counts[DeliveryStatus.pending] + counts[DeliveryStatus.sending])
        RETRIES_PENDING.set(counts[DeliveryStatus.retrying])
        DEAD_LETTERED.set(counts[DeliveryStatus.failed])

    async def run(self, _: Service) -> None:
        async with self.service.engine.connect() as listener:
            raw = await listener.get_raw_connection()
            await raw.driver_connection.add_listener(_CHANNEL, self._notified)  # type: ignore[union-attr]
            try:
                await self._loop()
            finally:
                await listener.invalidate()

    def _notified(self, *_: Any) -> None:
        self._wakeup.set()

    def room(self, now: float) -> dict[str, int]:
        """How many more deliveries each channel this worker knows may take: none while it rests
        after failures, one probe once rested, its concurrency limit less those in flight
        otherwise."""
        limit = self.settings.per_recipient_concurrency
        return {key: breaker.room(limit, now) for key, breaker in self.breakers.items()}

    async def _loop(self) -> None:
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        while not self._stopping:
            self.directory.refresh()
            room = self.settings.delivery_concurrency - self._sending
            claimed: list[Claimed] = []
            due_in: float | None = 1.0
            if room > 0:
                channels = self.room(time.monotonic())
                elsewhere = self.settings.per_recipient_concurrency
                async with driver(self.service.engine, transaction=False) as connection:
                    claimed = await claim_due(
                        connection, limit=room, lease=lease, room=channels, room_elsewhere=elsewhere
                    )
                    if len(claimed) < room:
                        due_in = await next_due_in(connection, room=channels, room_elsewhere=elsewhere)
            revisions = Counter((d.declaration_id, d.revision) for d in claimed)
            together: dict[tuple[UUID, int], Together] = {}
            for delivery in claimed:
                breaker = self.breakers.setdefault(
                    f"{delivery.recipient_code}/{delivery.channel}", Breaker(self.breaker_policy)
                )
                breaker.in_flight += 1
                revision = (delivery.declaration_id, delivery.revision)
                if revision not in together:
                    together[revision] = Together(
                        self.outcomes, expected=revisions[revision], window=self.settings.record_together_seconds
                    )
                self._sending += 1
                task = asyncio.create_task(self._deliver(delivery, breaker, together[revision]))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            # A channel at its concurrency limit may have left due deliveries behind too.
            limit = self.settings.per_recipient_concurrency
            self._held_back = room <= len(claimed) or any(b.in_flight >= limit for b in self.breakers.values())
            if room <= len(claimed):
                await self._wait(None)  # at capacity: until a delivery finishes
            else:
                # Until new deliveries are planned (NOTIFY), room frees up for deliveries left
                # behind, or the next retry falls due; at least once a second.
                await self._wait(1.0 if due_in is None else min(max(due_in, 0.01), 1.0))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if self._held_back or self._stopping:
            self._wakeup.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())

    async def _wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()

    def _free(self, breaker: Breaker) -> None:
        """A send is over, however it ended: its places, overall and on its channel, are free."""
        self._sending -= 1
        breaker.in_flight -= 1
        if self._held_back:
            self._wakeup.set()

    async def _deliver(self, delivery: Claimed, breaker: Breaker, together: Together) -> None:
        with tracer.start_as_current_span(
            f"notify {delivery.recipient_code} by {delivery.channel}",
            context=context_from_headers(delivery.trace_headers),
            kind=SpanKind.INTERNAL,
            attributes={
                DECLARATION_ID: str(delivery.declaration_id),
                DECLARATION_REFERENCE: delivery.reference,
                "vigie.delivery.id": str(delivery.id),
                "vigie.delivery.recipient": delivery.recipient_code,
                "vigie.delivery.channel": delivery.channel,
                "vigie.delivery.attempt": delivery.attempts,
            },
        ) as span:
            try:
                result = await self._send(delivery)
            except Exception as error:  # an attempt that broke is an attempt that failed
                log.exception("delivery %s: sending failed unexpectedly", delivery.id)
                result = SendResult(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
            finally:
                self._free(breaker)
            breaker.learn(delivered=result.delivered, permanent=result.permanent, now=time.monotonic())
            if not result.delivered:
                span.set_status(Status(StatusCode.ERROR, result.error))
            attempt = attempt_outcome(
                delivery,
                delivered=result.delivered,
                error=result.error,
                give_up=self.retries.gives_up(delivery.attempts, permanent=result.permanent),
                retry_in=timedelta(seconds=self.retries.delay(delivery.attempts)),
            )
            outcome = attempt.outcome.outcome if await together.record(attempt) else None
            span.set_attribute("vigie.delivery.outcome", str(outcome))
            if outcome is not None:
                DELIVERY_ATTEMPTS.labels(delivery.recipient_code, delivery.channel, str(outcome)).inc()
            if outcome is not None and result.delivered:
                log.info(
                    "sent %s to %s by %s, attempt %d",
                    delivery.reference,
                    delivery.recipient_code,
                    delivery.channel,
                    delivery.attempts,
                    extra={"declaration_id": delivery.declaration_id, "reference": delivery.reference},
                )
            elif outcome is not None:
                log.warning(
                    "delivery %s to %s by %s, attempt %d: %s (%s)",
                    delivery.id,
                    delivery.recipient_code,
                    delivery.channel,
                    delivery.attempts,
                    result.error,
                    outcome,
                    extra={"declaration_id": delivery.declaration_id, "reference": delivery.reference},
                )

    async def _send(self, delivery: Claimed) -> SendResult:
        if delivery.channel == Channel.webhook:
            return await self._send_webhook(delivery)
        return await self._send_email(delivery)

    async def _send_webhook(self, delivery: Claimed) -> SendResult:
        try:
            entry = self.directory.current.entry(delivery.recipient_code)
        except LookupError as error:
            return SendResult(delivered=False, error=str(error))
        if entry.webhook is None:
            return SendResult(delivered=False, error=f"{delivery.recipient_code} has no webhook any more")
        body = orjson.dumps(delivery.payload)
        return await self.webhooks.send(delivery.id, body, entry.webhook)

    async def _send_email(self, delivery: Claimed) -> SendResult:
        if self.email is None:
            return SendResult(delivered=False, error="e-mail is off: no SMTP server is configured")
        notification = WebhookNotification.model_validate(delivery.payload)
        kind = RecipientKind(delivery.recipient_kind)
        address = delivery.address
        if kind is RecipientKind.declarant:
            message = acknowledgement(notification)
        else:
            with contextlib.suppress(LookupError):
                address = self.directory.current.entry(delivery.recipient_code).email
            message = agency_message(notification, kind)
        if not address:
            return SendResult(delivered=False, error=f"{delivery.recipient_code} has no e-mail address")
        try:
            email = compose(delivery.id, message, sender=self.email.server.sender, to=address)
        except ValueError as error:
            return SendResult(delivered=False, error=str(error), permanent=True)
        return await self.email.send(email)
