"""The transactional outbox: events are written in the same transaction as the change that caused
them, and a relay publishes them to Kafka afterwards, keyed by their aggregate.

A broker outage therefore delays events, never loses them. One relay per database publishes at a
time (a PostgreSQL advisory lock elects it), so the events of one declaration keep their order.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from faststream.kafka.publisher import DefaultPublisher
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from vigie_contracts.events import BaseEnvelope

from .db import driver
from .kafka import BrokerConnection
from .metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED
from .tables import OUTBOX_CHANNEL, OutboxMessage
from .telemetry import DECLARATION_ID, context_from_headers, trace_headers

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_RELAY_LOCK = 0x6F7574626F78  # "outbox": one relay per service database publishes at a time
_TRACE_KEYS = frozenset({"traceparent", "tracestate"})


OutboxRow = dict[str, Any]
OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_STAGE = sa.insert(OUTBOX)
# The oldest rows, taken out of the outbox in the transaction that publishes them: until it
# commits, Kafka having acknowledged them all, they are still there for the next relay.
_TAKE_OLDEST = (
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT $1)"
    " RETURNING id, topic, aggregate_type, aggregate_id, payload::text AS payload, headers"
)


def outbox_message(event: BaseEnvelope, *, trace: dict[str, str] | None = None) -> OutboxRow:
    """The outbox row of ``event``, carrying a trace context for the relay to continue: ``trace``
    (W3C headers taken where the event's work began), else the current one."""
    return {
        "event_id": event.event_id,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": str(event.key),
        "type": event.type,
        "topic": event.topic.name,
        "payload": event.model_dump(mode="json"),
        "headers": {
            "event_id": str(event.event_id),
            "event_type": event.type,
            "schema_version": event.schema_version,
            **(trace_headers() if trace is None else trace),
        },
    }


async def stage(session: AsyncSession, rows: Sequence[OutboxRow]) -> None:
    """Write outbox rows in the session's transaction; they publish once it commits. Written
    at once, as rows: nothing of them stays in the session, however many a transaction holds."""
    if rows:
        await session.execute(_STAGE, list(rows))


async def add_events(session: AsyncSession, events: Sequence[BaseEnvelope]) -> None:
    """Stage events in the outbox of the session's transaction; they publish once it commits."""
    await stage(session, [outbox_message(event) for event in events])


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        publisher: Callable[[str], DefaultPublisher],
        connection: BrokerConnection,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.publisher = publisher  # the one the service declares for a topic
        self.connection = connection
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wakeup = asyncio.Event()
        self._stopping = False
        self.published = 0

    def stop(self) -> None:
        """Finish the batch under way, publish what is waiting once more, then return."""
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                await self.connection.ready.wait()
                async with self.engine.connect() as leader:
                    try:
                        if not await self._lead(leader):
                            await asyncio.sleep(self.poll_seconds)
                            continue
                        while not self._stopping:
                            sent = await self.relay_batch()
                            failures = 0
                            if sent < self.batch_size and not self._stopping:
                                await self._wait_for_rows()
                    finally:
                        # Closing the connection is what releases the leadership lock; returned
                        # to the pool, it would keep holding it.
                        await leader.invalidate()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                if failures == 1 or failures % 30 == 0:
                    log.warning("outbox relay paused (%s), retrying", error)
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))

    async def _lead(self, leader: AsyncConnection) -> bool:
        locked = await leader.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _RELAY_LOCK})
        await leader.commit()
        if not locked:
            return False
        raw = await leader.get_raw_connection()
        await raw.driver_connection.add_listener(OUTBOX_CHANNEL, self._notified)  # type: ignore[union-attr]
        self._wakeup.set()
        return True

    def _notified(self, *_: Any) -> None:
        self._wakeup.set()

    async def _wait_for_rows(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), self.poll_seconds)
        if not self._stopping:
            self._wakeup.clear()

    async def relay_batch(self) -> int:
        """Publish the oldest outbox rows, in order, and delete them once Kafka has acknowledged
        them all: one statement takes them out, and its transaction commits after the last
        acknowledgement (a failure rolls it back, and leaves them for the next batch)."""
        async with driver(self.engine) as connection:
            # RETURNING gives no order: the id does (it is the order the rows were written in).
            rows = sorted(await connection.fetch(_TAKE_OLDEST, self.batch_size), key=lambda row: row["id"])
            if not rows:
                return 0
            deliveries = [await self._publish(row) for row in rows]
            await asyncio.gather(*deliveries)
        self.published += len(rows)
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def _publish(self, row: asyncpg.Record) -> "asyncio.Future[Any]":
        topic, key, row_headers = row["topic"], row["aggregate_id"], row["headers"]
        span = tracer.start_span(
            f"{topic} publish",
            context=context_from_headers(row_headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "messaging.kafka.message.key": key,
                "messaging.message.id": row_headers.get("event_id", ""),
                **({DECLARATION_ID: key} if row["aggregate_type"] == "declaration" else {}),
            },
        )
        with trace.use_span(span, end_on_exit=False):
            headers = {k: v for k, v in row_headers.items() if k not in _TRACE_KEYS}
            headers.update(trace_headers())
        try:
            delivery = await self.publisher(topic).publish(
                row["payload"].encode(),
                key=key.encode(),
                headers=headers,
                no_confirm=True,
            )
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, str(error)))
            span.end()
            raise

        def finish(done: "asyncio.Future[Any]") -> None:
            if done.cancelled() or done.exception() is not None:
                span.set_status(Status(StatusCode.ERROR, "not acknowledged by Kafka"))
            span.end()

        delivery.add_done_callback(finish)
        return delivery


async def measure_backlog(engine: AsyncEngine) -> None:
    """Set the outbox gauges: how many events wait, and for how long the oldest has."""
    async with engine.connect() as connection:
        waiting, oldest_age = (
            await connection.execute(
                sa.text("SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) FROM outbox")
            )
        ).one()
    OUTBOX_BACKLOG.set(waiting)
    OUTBOX_OLDEST_AGE.set(float(oldest_age))
