"""A batch larger than the consumer's slice (a backlog after the consumer was stopped, say) is
applied whole, each event once, a slice to a transaction, so that no batch holds its process's
event loop for long; an event its handler refuses goes alone to the dead-letter topic."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal
from uuid import uuid4

import asyncpg
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from vigie_contracts.events import Envelope
from vigie_contracts.topics import DECLARATION_ENRICHED
from vigie_kit.consumer import SLICE, BatchProcessor, Subscription, decode
from vigie_kit.db import create_engine
from vigie_stack.stack import Stack

from ..support.pipeline import read_topic

GROUP = "tests.slices"


class Tick(Envelope):
    topic = DECLARATION_ENRICHED  # whose dead-letter twin the stack provisions
    type: Literal["tests.tick"] = "tests.tick"
    schema_version: Literal["1.0"] = "1.0"


def _record(offset: int, event: Tick) -> ConsumerRecord[bytes, bytes]:
    value = event.model_dump_json().encode()
    key = str(event.declaration_id).encode()
    return ConsumerRecord(Tick.topic.name, 0, offset, 0, 0, key, value, None, len(key), len(value), [])


async def test_a_batch_larger_than_a_slice_is_applied_whole_each_event_once(stack: Stack) -> None:
    observer = await asyncpg.connect(stack.postgres.dsn("stats"))
    await observer.execute("CREATE TABLE slice_test (event_id uuid PRIMARY KEY, tx bigint NOT NULL)")
    engine = create_engine(stack.postgres.database_url("stats"), pool_size=2)
    broker = KafkaBroker(stack.config.kafka_bootstrap)
    dead_letters = broker.publisher(Tick.topic.dead_letter)
    await broker.connect()
    now = datetime.now(UTC)
    events = [Tick(event_id=uuid4(), occurred_at=now, producer="tests", declaration_id=uuid4()) for _ in range(250)]
    poison = events[150]

    async def handler(connection: asyncpg.Connection, batch: Sequence[Tick]) -> None:
        if poison in batch:
            raise LookupError(f"no declaration {poison.declaration_id}")
        await connection.executemany(
            "INSERT INTO slice_test VALUES ($1, txid_current())", [(event.event_id,) for event in batch]
        )

    processor = BatchProcessor(Subscription(GROUP, Tick, "tests"), lambda: engine, dead_letters, handler)
    records = decode([_record(offset, event) for offset, event in enumerate(events)], Tick)
    timed = {"consumer": GROUP, "topic": Tick.topic.name}
    timed_before = REGISTRY.get_sample_value("vigie_event_handler_duration_seconds_count", timed) or 0
    try:
        await processor.process(records)
        timed_once = REGISTRY.get_sample_value("vigie_event_handler_duration_seconds_count", timed)
        applied = await observer.fetch("SELECT event_id, tx FROM slice_test")
        dead = [r for r in await read_topic(stack, Tick.topic.dead_letter) if r.key == records.records[150].key]
        await processor.process(records)  # the whole batch again, as after a crash before its offsets
        again = await observer.fetchval("SELECT count(*) FROM slice_test")
        timed_twice = REGISTRY.get_sample_value("vigie_event_handler_duration_seconds_count", timed)
        ledger = await observer.fetchval("SELECT count(*) FROM processed_events WHERE consumer = $1", GROUP)
    finally:
        await observer.execute("DROP TABLE slice_test")
        await observer.execute("DELETE FROM processed_events WHERE consumer = $1", GROUP)
        await observer.close()
        await broker.stop()
        await engine.dispose()

    assert {row["event_id"] for row in applied} == {event.event_id for event in events} - {poison.event_id}
    by_transaction: dict[int, int] = {}
    for row in applied:
        by_transaction[row["tx"]] = by_transaction.get(row["tx"], 0) + 1
    assert max(by_transaction.values()) == SLICE, "a slice to a transaction, the first one whole"
    # The poison's slice is applied again one event at a time, to find it; the others whole.
    assert sorted(by_transaction.values(), reverse=True)[:2] == [SLICE, len(events) - 2 * SLICE]
    assert len(dead) == 1
    headers = {key: value.decode() for key, value in dead[0].headers}
    assert headers["dlt_consumer_group"] == GROUP
    assert f"LookupError: no declaration {poison.declaration_id}" in headers["dlt_reason"]
    assert again == len(events) - 1, "delivered again, nothing is applied twice"
    assert ledger == len(events) - 1
    # The handler's time is counted per event applied, whatever the batches: none for the poison,
    # none for events found in the ledger.
    assert timed_once == timed_before + len(events) - 1
    assert timed_twice == timed_once
