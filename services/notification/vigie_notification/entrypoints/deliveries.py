"""The delivery worker: takes due deliveries from the ledger and sends each on its own, so a
slow or failing recipient never holds up the others.

Durable by construction: what is due lives in PostgreSQL, not in memory. A restart loses no
pending retry, and a send interrupted by a crash is retried once its lease runs out (the receiver
deduplicates on the notification id).
"""

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from vigie_contracts.events import Channel
from vigie_kit.db import unit_of_work
from vigie_kit.service import Service
from vigie_kit.telemetry import DECLARATION_ID, DECLARATION_REFERENCE, context_from_headers

from ..adapters.orm import Delivery
from ..adapters.webhook import SendResult, WebhookSender
from ..config import NotificationSettings
from ..domain.delivery import retry_delay
from ..domain.directory import Directory
from ..handlers import claim_due, next_due_in, record_attempt

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_CHANNEL = "vigie_deliveries"


class DeliveryWorker:
    def __init__(
        self,
        service: Service,
        directory: Directory,
        webhooks: WebhookSender,
        settings: NotificationSettings,
    ) -> None:
        self.service = service
        self.directory = directory
        self.webhooks = webhooks
        self.settings = settings
        self._wakeup = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def drain(self) -> None:
        """Take no new delivery and let those under way finish, so that a restart does not
        send again what was already sent."""
        self._stopping = True
        self._wakeup.set()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

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

    async def _loop(self) -> None:
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        while not self._stopping:
            room = self.settings.delivery_concurrency - len(self._in_flight)
            claimed: list[Delivery] = []
            if room > 0 and not self._stopping:
                async with unit_of_work(self.service.sessions) as session:
                    claimed = await claim_due(session, limit=room, lease=lease)
            for delivery in claimed:
                task = asyncio.create_task(self._deliver(delivery))
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            if room <= len(claimed):
                await self._wait(None)  # at capacity: until a delivery finishes
            else:
                await self._sleep_until_due()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wakeup.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task failed", exc_info=task.exception())

    async def _sleep_until_due(self) -> None:
        async with unit_of_work(self.service.sessions) as session:
            due_in = await next_due_in(session)
        await self._wait(1.0 if due_in is None else min(max(due_in, 0.01), 1.0))

    async def _wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()

    async def _deliver(self, delivery: Delivery) -> None:
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
            result = await self._send(delivery)
            if not result.delivered:
                span.set_status(Status(StatusCode.ERROR, result.error))
            give_up = result.permanent or delivery.attempts >= self.settings.max_attempts
            delay = retry_delay(
                delivery.attempts,
                base=self.settings.retry_base_seconds,
                cap=self.settings.retry_max_seconds,
            )
            async with unit_of_work(self.service.sessions) as session:
                outcome = await record_attempt(
                    session,
                    delivery,
                    delivered=result.delivered,
                    error=result.error,
                    give_up=give_up,
                    retry_in=timedelta(seconds=delay),
                )
            span.set_attribute("vigie.delivery.outcome", str(outcome))
            if outcome is not None and not result.delivered:
                log.warning(
                    "delivery %s to %s attempt %d: %s (%s)",
                    delivery.id,
                    delivery.recipient_code,
                    delivery.attempts,
                    result.error,
                    outcome,
                    extra={
                        "declaration_id": delivery.declaration_id,
                        "reference": delivery.reference,
                    },
                )

    async def _send(self, delivery: Delivery) -> SendResult:
        try:
            entry = self.directory.entry(delivery.recipient_code)
        except LookupError as error:
            return SendResult(delivered=False, error=str(error))
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        if delivery.channel == Channel.webhook and entry.webhook is not None:
            return await self.webhooks.send(delivery.id, body, entry.webhook)
        return SendResult(delivered=False, error=f"{delivery.recipient_code} has no {delivery.channel} channel")
