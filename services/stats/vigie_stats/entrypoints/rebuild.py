"""Rebuild every aggregate by replaying the topics from the beginning.

The replay writes into a schema of its own (``rebuild``), through the very handlers and
idempotency ledger the live consumers use, up to the end of each topic as it was when the replay
started. Then it compares, table by table, with the live aggregates. ``--swap`` puts the rebuilt
tables in place of the live ones while the service runs: it locks the live tables (the live
consumers wait), replays what arrived meanwhile, and swaps, in one transaction, so that no
event falls between the two.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_kit.consumer import Subscription, apply_events, decode
from vigie_kit.db import create_engine, driver, migrate
from vigie_kit.kafka import kafka_client_options

from ..bootstrap import MIGRATIONS
from ..config import StatsSettings
from .events import AGGREGATES, HANDLERS

SCHEMA = "rebuild"
TABLES = ("declaration_facts", "ars_notifications", "processed_events")
_BATCH = 1000


@dataclass
class Report:
    events: int = 0
    applied: int = 0
    undecodable: int = 0
    seconds: float = 0.0
    differences: dict[str, int] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not any(self.differences.values())

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def _prepare(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        for table in TABLES:
            await connection.execute(sa.text(f"CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)"))


Offsets = dict[TopicPartition, int]


async def _replay(
    settings: StatsSettings,
    subscription: Subscription[Any],
    rebuilt: AsyncEngine,
    report: Report,
    start: Offsets | None = None,
) -> Offsets:
    """Apply the topic's events from ``start`` (or its beginning) to its current end; returns the
    end offsets reached."""
    consumer = AIOKafkaConsumer(enable_auto_commit=False, max_poll_records=_BATCH, **kafka_client_options(settings))
    await consumer.start()
    try:
        partitions = [TopicPartition(subscription.topic.name, p) for p in range(subscription.topic.partitions)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        for tp in partitions:
            if start is not None and tp in start:
                consumer.seek(tp, start[tp])
            else:
                await consumer.seek_to_beginning(tp)
        remaining = {tp for tp, end in ends.items() if end > (start or {}).get(tp, 0)}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=_BATCH)
            records: list[ConsumerRecord[Any, Any]] = []
            for tp, items in batches.items():
                records += [r for r in items if r.offset < ends[tp]]
                if items and items[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            decoded = decode(records, subscription.event_type)
            report.undecodable += len(decoded.rejected)  # the live consumer sent them to the dead-letter topic
            report.events += len(records)
            async with driver(rebuilt) as connection:
                report.applied += await apply_events(connection, subscription, HANDLERS[subscription], decoded.pairs())
        return dict(ends)
    finally:
        await consumer.stop()


async def _differences(engine: AsyncEngine) -> dict[str, int]:
    found = {}
    async with engine.connect() as connection:
        for table in ("declaration_facts", "ars_notifications"):
            count = await connection.scalar(
                sa.text(
                    # Table and schema names are this module's constants, never input.
                    f"SELECT count(*) FROM ((SELECT * FROM public.{table} EXCEPT SELECT * FROM {SCHEMA}.{table})"  # noqa: S608
                    f" UNION ALL (SELECT * FROM {SCHEMA}.{table} EXCEPT SELECT * FROM public.{table})) AS d"
                )
            )
            found[table] = int(count or 0)
    return found


async def _swap(
    settings: StatsSettings, live: AsyncEngine, rebuilt: AsyncEngine, report: Report, ends: list[Offsets]
) -> None:
    async with live.begin() as connection:
        # The live consumers wait on this lock; whatever they applied is in the topics up to
        # their committed offsets, which the catch-up below replays as well.
        await connection.execute(
            sa.text(f"LOCK TABLE {', '.join(f'public.{t}' for t in TABLES)} IN ACCESS EXCLUSIVE MODE")
        )
        for subscription, reached in zip(AGGREGATES, ends, strict=True):
            await _replay(settings, subscription, rebuilt, report, start=reached)
        await connection.execute(sa.text("DROP SCHEMA IF EXISTS replaced CASCADE"))
        await connection.execute(sa.text("CREATE SCHEMA replaced"))
        for table in TABLES:
            await connection.execute(sa.text(f"ALTER TABLE public.{table} SET SCHEMA replaced"))
            await connection.execute(sa.text(f"ALTER TABLE {SCHEMA}.{table} SET SCHEMA public"))


async def rebuild(settings: StatsSettings, *, swap: bool = False) -> Report:
    live = create_engine(settings.database_url, pool_size=2)
    rebuilt = create_engine(settings.database_url, pool_size=2, search_path=SCHEMA)
    report = Report()
    try:
        await migrate(live, MIGRATIONS)
        await _prepare(live)
        started = time.perf_counter()
        ends = [await _replay(settings, subscription, rebuilt, report) for subscription in AGGREGATES]
        report.seconds = time.perf_counter() - started
        report.differences = await _differences(live)
        if swap:
            await _swap(settings, live, rebuilt, report, ends)
    finally:
        await rebuilt.dispose()
        await live.dispose()
    return report


def run(swap: bool) -> Report:
    return asyncio.run(rebuild(StatsSettings(), swap=swap))
