"""A consumer commits the offsets of what it applied, batches applied close together in one
request to the broker rather than one each, within ``COMMIT_SECONDS`` of the last; a batch that
fails commits nothing and comes again; a consumer that stops commits what waits before it goes;
and a batch once applied is let go, though its offsets wait."""

import asyncio
import gc
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from vigie_contracts.events import Envelope
from vigie_contracts.topics import TopicSpec
from vigie_kit.consumer import COMMIT_SECONDS, Subscription, subscribe
from vigie_kit.db import create_engine
from vigie_kit.errors import Retry
from vigie_stack.stack import Stack

TOPIC = TopicSpec(f"tests.commits.{uuid4().hex[:8]}", partitions=2)
GROUP = f"tests.commits.{uuid4().hex[:8]}"


class Tick(Envelope):
    topic = TOPIC
    type: Literal["tests.tick"] = "tests.tick"
    schema_version: Literal["1.0"] = "1.0"


async def committed(stack: Stack) -> int:
    """How many records of the topic the group has committed, over its partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.config.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(GROUP)
    finally:
        await admin.close()
    return sum(max(meta.offset, 0) for tp, meta in offsets.items() if tp.topic == TOPIC.name)


async def create_topics(stack: Stack, topic: TopicSpec) -> None:
    """The topic and its dead-letter topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.config.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, num_partitions=topic.partitions, replication_factor=1)
                for name in (topic.name, topic.dead_letter)
            ]
        )
    finally:
        await admin.close()


async def publish(broker: KafkaBroker, topic: TopicSpec, events: Sequence[Envelope]) -> None:
    for event in events:
        await broker.publish(event.model_dump_json().encode(), topic.name, key=str(event.declaration_id).encode())


async def test_applied_batches_share_a_commit_and_a_failed_one_commits_nothing(stack: Stack) -> None:
    bootstrap = stack.config.kafka_bootstrap
    await create_topics(stack, TOPIC)
    observer = await asyncpg.connect(stack.postgres.dsn("stats"))
    engine = create_engine(stack.postgres.database_url("stats"), pool_size=2)
    broker = KafkaBroker(bootstrap)
    refuse_once: set[object] = set()
    applied: list[object] = []

    async def handler(connection: asyncpg.Connection, batch: Sequence[Tick]) -> None:
        for event in batch:
            if event.event_id in refuse_once:
                refuse_once.discard(event.event_id)
                raise Retry("not yet")  # transient: the batch is delivered again
        applied.extend(event.event_id for event in batch)

    processor = subscribe(broker, Subscription(GROUP, Tick, "tests"), lambda: engine, handler=handler)
    commits = 0
    real_commit = AIOKafkaConsumer.commit

    async def counted(self: AIOKafkaConsumer, offsets: Any = None) -> None:
        nonlocal commits
        commits += 1
        await real_commit(self, offsets)

    AIOKafkaConsumer.commit = counted  # type: ignore[method-assign]
    now = datetime.now(UTC)
    ticks = [Tick(event_id=uuid4(), occurred_at=now, producer="tests", declaration_id=uuid4()) for _ in range(40)]
    refuse_once.add(ticks[25].event_id)
    try:
        await broker.start()
        # Ten small batches, 30 ms apart: each is applied as it comes.
        for start in range(0, len(ticks), 4):
            await publish(broker, TOPIC, ticks[start : start + 4])
            await asyncio.sleep(0.03)
        deadline = time.monotonic() + 30
        while len(set(applied)) < len(ticks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert set(applied) == {tick.event_id for tick in ticks}, "every event applied, the refused one too"
        landed = time.monotonic()
        while await committed(stack) < len(ticks) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        waited = time.monotonic() - landed
        assert await committed(stack) == len(ticks), "every applied record's offset is committed"
        assert waited < COMMIT_SECONDS + 2, f"committed {waited:.2f} s after the last was applied"
        assert commits < 10, f"{commits} commit requests for ten batches and a redelivered one"

        # What is applied while the consumer stops is committed before it goes.
        late = [Tick(event_id=uuid4(), occurred_at=now, producer="tests", declaration_id=uuid4()) for _ in range(3)]
        await publish(broker, TOPIC, late)
        # Applied means the batch's transaction is over (the handler runs inside it): what the
        # service's drain waits for before it flushes.
        deadline = time.monotonic() + 30
        while processor.applied < len(ticks) + len(late) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await processor.flush()
        assert await committed(stack) == len(ticks) + len(late)
    finally:
        AIOKafkaConsumer.commit = real_commit  # type: ignore[method-assign]
        await broker.stop()
        await engine.dispose()
        await observer.execute("DELETE FROM processed_events WHERE consumer = $1", GROUP)
        await observer.close()
    assert len(applied) == len(ticks) + len(late), "each event applied once, the failed batch's too"


async def test_a_batch_once_applied_is_not_kept_while_its_offsets_wait(stack: Stack) -> None:
    kept_topic = TopicSpec(f"tests.kept.{uuid4().hex[:8]}", partitions=1)
    group = f"tests.kept.{uuid4().hex[:8]}"
    await create_topics(stack, kept_topic)

    class Beat(Envelope):
        topic = kept_topic
        type: Literal["tests.beat"] = "tests.beat"
        schema_version: Literal["1.0"] = "1.0"

    engine = create_engine(stack.postgres.database_url("stats"), pool_size=2)
    broker = KafkaBroker(stack.config.kafka_bootstrap)
    applied: list[object] = []

    async def handler(connection: asyncpg.Connection, batch: Sequence[Beat]) -> None:
        applied.extend(event.event_id for event in batch)

    subscribe(broker, Subscription(group, Beat, "tests"), lambda: engine, handler=handler)
    now = datetime.now(UTC)
    first = [Beat(event_id=uuid4(), occurred_at=now, producer="tests", declaration_id=uuid4()) for _ in range(20)]
    then = Beat(event_id=uuid4(), occurred_at=now, producer="tests", declaration_id=uuid4())
    try:
        await broker.start()
        await publish(broker, kept_topic, first)
        deadline = time.monotonic() + 30
        while len(applied) < len(first) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await publish(broker, kept_topic, [then])  # once the first batch is applied, a second one
        while then.event_id not in applied and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert then.event_id in applied
        gc.collect()
        # Within COMMIT_SECONDS of the first batch: its offsets may still wait to be committed.
        ids = {str(event.event_id).encode() for event in first}
        kept = [
            o
            for o in gc.get_objects()
            if isinstance(o, ConsumerRecord) and o.topic == kept_topic.name and any(i in (o.value or b"") for i in ids)
        ]
        assert kept == [], f"{len(kept)} records of an applied batch still held"
    finally:
        await broker.stop()
        await engine.dispose()
        observer = await asyncpg.connect(stack.postgres.dsn("stats"))
        await observer.execute("DELETE FROM processed_events WHERE consumer = $1", group)
        await observer.close()
