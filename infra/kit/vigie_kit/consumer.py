"""The idempotent consumer: every Kafka subscriber of every service goes through it.

Each subscription is a FastStream batch subscriber whose handler takes the events of its
contract (``list[DeclarationEnriched]``, say): its decoder validates each record on its own, so
that one record that is no such event is set aside for the dead-letter topic rather than
refusing its whole batch.

A batch of records is applied in PostgreSQL transactions of at most a hundred events, each
together with the ids of the events it applied (``processed_events``), and only then are the
offsets committed. A redelivered event is found in that ledger and changes nothing, so the
offsets of applied batches are committed together, at most every ``COMMIT_SECONDS``, rather than
one request to the broker a batch: a crash or a rebalance redelivers at most that much, which
the ledger absorbs. A record that cannot be processed goes to the topic's dead-letter twin with
the reason in its headers, and the partition goes on. A transient failure (database or broker
away) commits nothing more, and the batch is delivered again: what its first slices applied is
found in the ledger.
"""

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaMessage as Received
from faststream.kafka.publisher import DefaultPublisher
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_contracts.events import BaseEnvelope, Envelope
from vigie_contracts.topics import TopicSpec

from .db import driver
from .errors import is_transient
from .metrics import CONSUMER_LAG, DEAD_LETTERED, EVENTS_PROCESSED, HANDLER_DURATION
from .telemetry import DECLARATION_ID, context_from_headers

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

E = TypeVar("E", bound=BaseEnvelope)
BatchHandler = Callable[[asyncpg.Connection, Sequence[E]], Awaitable[None]]
Record = ConsumerRecord[Any, Any]

_MAX_REASON = 2000
SLICE = 100  # events applied at once, in one transaction; records decoded between two yields
COMMIT_SECONDS = 0.5  # how long the offsets of applied events may wait to be committed
_GATHER_BYTES = 1024 * 1024
_RECORD_PROCESSED = (
    "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
# The process span of each event of the batch a batch handler is applying, by event id.
_BATCH_SPANS: contextvars.ContextVar[dict[UUID, Span]] = contextvars.ContextVar("batch_spans", default={})  # noqa: B039 - never mutated


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """What a consumer group takes: the events of ``event_type``, from its topic. ``group`` is
    the consumer group and the name in ``processed_events``; ``description`` says what the
    group makes of them, in the AsyncAPI document.

    Its handler (a ``BatchHandler``, bound when the service starts: it may need the service's
    settings) applies a batch's fresh events at once, in order, a hundred at most, on the
    driver's connection (``db.driver``) in the batch's transaction: every event takes these
    statements, and SQLAlchemy's handling of each would cost about three times what the
    driver's does. Each event keeps its own process span, and the batch runs under the last
    one; a handler that starts work continuing each event's trace makes that event's span
    current with ``processing(event)``.

    ``gather_ms`` lets the broker hold a fetch that long to gather a larger batch, for a consumer
    off the path from the intake to the agencies (a status, a count): at a steady load, one
    transaction and one offset commit for many events rather than nearly one each, and a few
    fetches a second rather than one for every message produced."""

    group: str
    event_type: type[E]
    description: str
    gather_ms: int = 0

    @property
    def topic(self) -> TopicSpec:
        return self.event_type.topic


class Decoded(list[E]):
    """A batch's events, in order, each with the record it came from (``records``), and the
    records that are no event of the contract, with why (``rejected``)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Record] = []
        self.rejected: list[tuple[Record, str]] = []

    def pairs(self) -> list[tuple[Record, E]]:
        return list(zip(self.records, self, strict=True))


def decode(records: Sequence[Record], event_type: type[E], into: "Decoded[E] | None" = None) -> Decoded[E]:
    """Each record against ``event_type``'s contract, on its own. Never raises: whatever a
    record does to the contract's validation, it is that record that is set aside."""
    decoded = Decoded[E]() if into is None else into
    for record in records:
        if record.value is None:
            decoded.rejected.append((record, "empty message (no value)"))
            continue
        try:
            event = event_type.model_validate_json(record.value)
        except ValidationError as error:
            decoded.rejected.append((record, f"not a valid {event_type.__name__}: {error}"))
        except Exception as error:  # a validator that fails otherwise than pydantic expects
            decoded.rejected.append((record, f"not a valid {event_type.__name__}: {type(error).__name__}: {error}"))
        else:
            decoded.records.append(record)
            decoded.append(event)
    return decoded


async def apply_events(
    connection: asyncpg.Connection,
    subscription: Subscription[E],
    handler: BatchHandler[E],
    events: Sequence[tuple[Record, E]],
) -> int:
    """Apply events with ``handler`` in the transaction of the driver's ``connection``
    (``db.driver``), each once: its id is recorded for the subscription's group in the same
    transaction, and an id already there is skipped. Returns how many were applied."""
    group = subscription.group
    unique_ids = list(dict.fromkeys(event.event_id for _, event in events))
    if not unique_ids:
        return 0
    fresh = {row[0] for row in await connection.fetch(_RECORD_PROCESSED, group, unique_ids)}
    fresh_events = []
    for record, event in events:
        if event.event_id in fresh:  # else already applied, by an earlier delivery or earlier in this batch
            fresh.discard(event.event_id)
            fresh_events.append((record, event))
    if not fresh_events:
        return 0
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        spans = {
            event.event_id: stack.enter_context(_process_span(group, record, event)) for record, event in fresh_events
        }
        token = _BATCH_SPANS.set(spans)
        try:
            await handler(connection, [event for _, event in fresh_events])
        finally:
            _BATCH_SPANS.reset(token)
    # Each event's share of the batch: the histogram counts events, whatever their batches.
    each = (time.perf_counter() - started) / len(fresh_events)
    duration = HANDLER_DURATION.labels(group, subscription.topic.name)
    for _ in fresh_events:
        duration.observe(each)
    return len(fresh_events)


@contextlib.contextmanager
def processing(event: BaseEnvelope) -> Iterator[None]:
    """In a batch handler, make ``event``'s own process span current, for work that continues
    its trace (an event published, a delivery planned)."""
    span = _BATCH_SPANS.get().get(event.event_id)
    if span is None:
        yield
        return
    with trace.use_span(span, end_on_exit=False):
        yield


@contextlib.contextmanager
def _process_span(group: str, record: Record, event: BaseEnvelope) -> Iterator[Span]:
    """The span of one event's processing, the child of the span that published it."""
    with tracer.start_as_current_span(
        f"{record.topic} process",
        context=context_from_headers(record.headers),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.message.id": str(event.event_id),
            **({DECLARATION_ID: str(event.declaration_id)} if isinstance(event, Envelope) else {}),
        },
    ) as span:
        yield span


class BatchProcessor(Generic[E]):
    """Applies the batches of one subscription: decodes them (FastStream's decoder for its
    subscriber), applies them with the subscription's handler, dead-letters what cannot be
    applied, and commits offsets once applied."""

    def __init__(
        self,
        subscription: Subscription[E],
        engine: Callable[[], AsyncEngine],
        dead_letters: DefaultPublisher,
        handler: BatchHandler[E] | None = None,
    ) -> None:
        self.subscription = subscription
        self.engine = engine
        self.dead_letters = dead_letters
        self.handler = handler
        self._failures = 0
        self.applied = 0
        self.dead_lettered = 0
        self.subscriber: Any = None  # FastStream's subscriber, set by ``subscribe``
        # The next offset of each partition whose records are applied, not yet committed.
        self._uncommitted: dict[TopicPartition, int] = {}
        self._commit_due: asyncio.TimerHandle | None = None
        self._committing: asyncio.Task[None] | None = None

    async def decode(self, message: Received) -> Decoded[E]:
        """FastStream's decoder for this subscription: never fails, so that a batch always
        reaches its handler, whose outcome alone acknowledges it or delivers it again. A slice
        at a time, giving the event loop back in between: a campaign's 500 events at once held
        the intake's answers in the same process."""
        records: tuple[Record, ...] = message.raw_message  # type: ignore[assignment]
        decoded = Decoded[E]()
        for start in range(0, len(records), SLICE):
            if start:
                await asyncio.sleep(0)
            decode(records[start : start + SLICE], self.subscription.event_type, into=decoded)
        return decoded

    async def process(self, batch: Decoded[E]) -> None:
        rejects = list(batch.rejected)
        events = batch.pairs()
        try:
            # A slice at a time, each in a transaction of its own, so that the intake's answers in
            # the same process are not held behind a whole batch. Offsets are committed once every
            # slice is; a slice applied before a failure is found in the ledger when the batch
            # comes again.
            for start in range(0, len(events), SLICE):
                await self._apply_isolating_failures(events[start : start + SLICE], rejects)
            for record, reason in rejects:
                await self._dead_letter(record, reason)
        except Exception as error:
            if not is_transient(error):
                raise
            self._failures += 1
            delay = min(0.1 * 2**self._failures, 5.0)
            log.warning(
                "%s: transient failure (%s), batch will be redelivered in %.1fs",
                self.subscription.group,
                error,
                delay,
            )
            await asyncio.sleep(delay)
            raise
        self._failures = 0

    def applied_through(self, consumer: AIOKafkaConsumer, records: Sequence[Record]) -> None:
        """``records`` are applied (or dead-lettered): their offsets are committed within
        ``COMMIT_SECONDS``, with those of the batches applied meanwhile."""
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._uncommitted[partition] = max(self._uncommitted.get(partition, 0), record.offset + 1)
        if self._commit_due is None:
            self._commit_later(consumer)

    def _commit_later(self, consumer: AIOKafkaConsumer) -> None:
        # In a context of its own: one copied from the handler's would hold FastStream's current
        # message, and with it the whole batch (its records, bodies and headers), for as long as
        # the timer and then its commit task are kept.
        loop = asyncio.get_running_loop()
        self._commit_due = loop.call_later(COMMIT_SECONDS, self._start_commit, consumer, context=contextvars.Context())

    def _start_commit(self, consumer: AIOKafkaConsumer) -> None:
        self._committing = asyncio.create_task(self.commit(consumer))

    async def commit(self, consumer: AIOKafkaConsumer) -> None:
        """Commit the offsets of what was applied, for the partitions this consumer still holds.
        Offsets the broker could not take now wait for the next commit; those of a partition
        given to another consumer meanwhile are dropped (it starts from the last committed
        offset, and finds what was applied since in the ledger)."""
        if self._commit_due is not None:
            self._commit_due.cancel()
            self._commit_due = None
        held = consumer.assignment()  # type: ignore[no-untyped-call]
        offsets = {partition: offset for partition, offset in self._uncommitted.items() if partition in held}
        self._uncommitted = {}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)  # type: ignore[no-untyped-call]
        except CommitFailedError:
            # The group rebalanced since these were applied: they belong to an assignment that
            # is over. Committed again, they would fail again, and each failure asks the group
            # to rebalance once more (a storm of rebalances, each pausing every member). The
            # partition's owner now starts from the last committed offset and finds what was
            # applied since in the ledger.
            log.info("%s: the group rebalanced; offsets of the previous assignment dropped", self.subscription.group)
        except KafkaError as error:
            log.warning("%s: offsets not committed yet (%s), trying again", self.subscription.group, error)
            for partition, offset in offsets.items():
                self._uncommitted[partition] = max(self._uncommitted.get(partition, 0), offset)
            if self._commit_due is None:
                self._commit_later(consumer)

    async def flush(self) -> None:
        """At shutdown: commit now what waits to be, once a commit under way is over."""
        if self._committing is not None:
            with contextlib.suppress(Exception):
                await self._committing
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is not None and self._uncommitted:
            await self.commit(consumer)

    async def _apply_isolating_failures(
        self,
        events: list[tuple[Record, E]],
        rejects: list[tuple[Record, str]],
    ) -> None:
        try:
            await self._apply(events)
        except Exception as error:
            if is_transient(error):
                raise
            # Something in the batch is poison: apply the events one by one to find it, so
            # the others still take effect and only the culprit goes to the dead-letter topic.
            for item in events:
                try:
                    await self._apply([item])
                except Exception as single_error:
                    if is_transient(single_error):
                        raise
                    log.exception("%s: event cannot be processed", self.subscription.group)
                    rejects.append((item[0], f"{type(single_error).__name__}: {single_error}"))

    async def _apply(self, events: list[tuple[Record, E]]) -> None:
        if self.handler is None:
            raise NotBound(f"{self.subscription.group}: no handler bound to this subscription")
        async with driver(self.engine()) as connection:
            applied = await apply_events(connection, self.subscription, self.handler, events)
        self.applied += len(events)
        EVENTS_PROCESSED.labels(self.subscription.group, self.subscription.topic.name).inc(applied)

    async def _dead_letter(self, record: Record, reason: str) -> None:
        topic = self.subscription.topic
        headers = {key: value.decode("utf-8", "replace") for key, value in record.headers}
        headers.update(
            {
                "dlt_reason": reason[:_MAX_REASON],
                "dlt_topic": record.topic,
                "dlt_partition": str(record.partition),
                "dlt_offset": str(record.offset),
                "dlt_consumer_group": self.subscription.group,
                "dlt_at": datetime.now(UTC).isoformat(),
            }
        )
        await self.dead_letters.publish(record.value, key=record.key, headers=headers)
        self.dead_lettered += 1
        DEAD_LETTERED.labels(self.subscription.group, record.topic).inc()
        log.error(
            "%s: sent %s[%s]@%s to %s: %s",
            self.subscription.group,
            record.topic,
            record.partition,
            record.offset,
            topic.dead_letter,
            reason[:200],
        )

    async def measure_lag(self) -> None:
        """Set the lag gauge of each partition assigned to this process: the end of the log
        minus the group's committed offset."""
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None:
            return
        partitions: list[TopicPartition] = sorted(consumer.assignment())
        if not partitions:
            return
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        committed_offsets = await asyncio.gather(*(consumer.committed(partition) for partition in partitions))
        for partition, committed in zip(partitions, committed_offsets, strict=True):
            position = starts[partition] if committed is None else committed
            CONSUMER_LAG.labels(self.subscription.group, partition.topic, str(partition.partition)).set(
                max(ends[partition] - position, 0)
            )


def subscribe(
    broker: KafkaBroker,
    subscription: Subscription[E],
    engine: Callable[[], AsyncEngine],
    *,
    handler: BatchHandler[E] | None = None,
    max_records: int = 500,
    batch_timeout_ms: int = 50,
) -> BatchProcessor[E]:
    """Declare ``subscription`` on ``broker``: a batch subscriber typed by its contract, and the
    publisher of its dead-letter topic. Offsets are committed only after the batch's effects
    are, and a batch that fails rewinds its partitions to be delivered again."""
    topic = subscription.topic
    dead_letters = broker.publisher(
        topic.dead_letter,
        title=f"{subscription.group}:dead-letters",
        description=(
            f"Records of {topic.name} that {subscription.group} cannot apply, as they were received,"
            " with why in the dlt_reason header and where they were in dlt_topic, dlt_partition"
            " and dlt_offset."
        ),
    )
    processor = BatchProcessor(subscription, engine, dead_letters, handler)
    subscriber = broker.subscriber(
        topic.name,
        batch=True,
        group_id=subscription.group,
        # Offsets are committed by the processor once the batch is applied (``applied_through``):
        # lazily, those of many batches in one request; a batch that fails rewinds its partitions
        # to be delivered again.
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        title=subscription.group,
        description=subscription.description,
        # With gather_ms, the broker answers once it holds this much or once gather_ms have
        # passed; otherwise at the first byte (aiokafka's defaults).
        fetch_min_bytes=_GATHER_BYTES if subscription.gather_ms else 1,
        fetch_max_wait_ms=subscription.gather_ms or 500,
        decoder=processor.decode,
    )

    async def consume(events: list[Any], message: KafkaMessage) -> None:
        # ``events`` is what FastStream validated against the contract (and what the AsyncAPI
        # document shows); the decoder's own result, kept by the message, holds them with their
        # records, and the records it set aside.
        batch: Decoded[E] = await message.decode()  # type: ignore[assignment]
        try:
            await processor.process(batch)
        except Exception:
            await message.nack()
            raise
        processor.applied_through(message.consumer, message.raw_message)  # type: ignore[arg-type]

    # The handler's type is the subscription's contract, known when it is declared: FastStream
    # validates batches against it, and the AsyncAPI document shows it.
    consume.__annotations__["events"] = list[subscription.event_type]  # type: ignore[name-defined]
    consume.__name__ = consume.__qualname__ = subscription.group.replace(".", "_").replace("-", "_")
    subscriber(consume)
    processor.subscriber = subscriber
    return processor


class NotBound(RuntimeError):
    pass
