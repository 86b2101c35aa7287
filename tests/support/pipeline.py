"""Helpers to watch the real pipeline from the outside: its databases, its topics, its lag."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_contracts.topics import ALL_TOPICS, DECLARATION_ENRICHED, DECLARATION_SUBMITTED, NOTIFICATION_DISPATCHED
from vigie_kit.db import create_engine
from vigie_stack.config import SERVICES
from vigie_stack.stack import Stack
from vigie_stack.topics import end_offsets as topic_ends
from vigie_stack.topics import partitions_of as topic_partitions

GROUPS = {
    "declaration.enrichment-status": DECLARATION_ENRICHED.name,
    "declaration.delivery-status": NOTIFICATION_DISPATCHED.name,
    "enrichment.enrich": DECLARATION_SUBMITTED.name,
    "notification.plan": DECLARATION_ENRICHED.name,
    "stats.facts": DECLARATION_ENRICHED.name,
    "stats.delivery": NOTIFICATION_DISPATCHED.name,
}


async def wait_until(
    predicate: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 30.0,
    interval: float = 0.2,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s")


@asynccontextmanager
async def scratch_database(stack: Stack, service: str) -> AsyncIterator[tuple[AsyncEngine, asyncpg.Connection]]:
    """An empty database of ``service``'s role, beside the running service's, dropped afterwards:
    to migrate and fill as a test needs without the service's own workers touching it."""
    admin = await stack.postgres.connect_as_admin()
    name = f"scratch_{uuid4().hex[:12]}"
    await admin.execute(f"CREATE DATABASE {name} OWNER vigie_{service}")
    dsn = stack.postgres.dsn(service, database=name)
    engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    connection = await asyncpg.connect(dsn)
    try:
        yield engine, connection
    finally:
        await connection.close()
        await engine.dispose()
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()


async def query(stack: Stack, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(stack.postgres.dsn(service))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def scalar(stack: Stack, service: str, sql: str, *args: Any) -> Any:
    rows = await query(stack, service, sql, *args)
    return rows[0][0] if rows else None


async def partitions_of(stack: Stack, topics: list[str]) -> list[TopicPartition]:
    return await topic_partitions(stack.config.kafka_bootstrap, topics)


async def end_offsets(stack: Stack, topics: list[str]) -> dict[TopicPartition, int]:
    return await topic_ends(stack.config.kafka_bootstrap, topics)


async def consumer_lag(stack: Stack) -> dict[str, int]:
    """Messages each consumer group has not yet committed past."""
    ends = await end_offsets(stack, sorted(set(GROUPS.values())))
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.config.kafka_bootstrap)
    await admin.start()
    try:
        lag = {}
        for group, topic in GROUPS.items():
            committed = await admin.list_consumer_group_offsets(group)
            lag[group] = sum(
                end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
                for tp, end in ends.items()
                if tp.topic == topic
            )
        return lag
    finally:
        await admin.close()


# The pipeline's stages in the order work flows through them: an outbox, then the groups that
# consume what it publishes. Checked in this order, work moving on while we look is always met
# again further down; checked out of order, it could slip behind the check and look idle.
STAGES: list[tuple[str, str | list[str]]] = [
    ("outbox", "declaration"),
    ("lag", ["enrichment.enrich"]),
    ("outbox", "enrichment"),
    ("lag", ["notification.plan", "stats.facts", "declaration.enrichment-status"]),
    ("deliveries", "notification"),
    ("outbox", "notification"),
    ("lag", ["declaration.delivery-status", "stats.delivery"]),
]


async def settle(stack: Stack, timeout: float = 60.0) -> None:
    """Wait until the pipeline is idle: every outbox empty, every delivery finished, every
    consumer group caught up, seen stage by stage in the order work flows, twice in a row.
    Tests that compare before and after start from here."""

    async def stage_idle(kind: str, what: str | list[str]) -> bool:
        if kind == "outbox":
            return not await scalar(stack, str(what), "SELECT count(*) FROM outbox")
        if kind == "deliveries":
            unfinished = "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending', 'retrying')"
            return not await scalar(stack, str(what), unfinished)
        lag = await consumer_lag(stack)
        return not any(lag[group] for group in what)

    async def idle_once() -> bool:
        for kind, what in STAGES:
            if not await stage_idle(kind, what):
                return False
        return True

    async def idle() -> bool:
        return await idle_once() and await idle_once()

    await wait_until(idle, timeout=timeout, interval=0.3, what="an idle pipeline")


async def read_topic(stack: Stack, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic``, from the beginning to its current end."""
    ends = await end_offsets(stack, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.config.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning()
        records: list[ConsumerRecord[bytes, bytes]] = []
        remaining = {tp for tp, end in ends.items() if end > 0}
        deadline = time.monotonic() + 30
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, items in batch.items():
                records.extend(items)
                if items and items[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()


async def wait_for_status(
    api: httpx.AsyncClient, ids: list[str], status: str = "notified", timeout: float = 60.0
) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}

    async def reached() -> bool:
        for declaration_id in ids:
            if states.get(declaration_id, {}).get("status") != status:
                response = await api.get(f"/v1/declarations/{declaration_id}")
                states[declaration_id] = response.json()
        return all(state.get("status") == status for state in states.values())

    await wait_until(reached, timeout=timeout, what=f"{len(ids)} declarations {status}")
    return states


TOPIC_NAMES = [name for spec in ALL_TOPICS for name in (spec.name, spec.dead_letter)]


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(stack: Stack, service: str) -> Samples:
    """The service's metrics, as the operators' scraper reads them (with the metrics token)."""
    headers = {"Authorization": f"Bearer {stack.config.metrics_token}"}
    async with httpx.AsyncClient(base_url=stack.config.service_url(service), timeout=10, headers=headers) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over the series whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, series), value in samples.items() if sample == name and wanted <= series)


async def probes(stack: Stack, probe: str) -> dict[str, httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as client:
        return {
            service: await client.get(f"{stack.config.service_url(service)}/health/{probe}") for service in SERVICES
        }


async def wait_readiness(stack: Stack, *, ready: bool, missing: str | None = None, timeout: float = 30) -> None:
    async def reached() -> bool:
        answers = await probes(stack, "ready")
        if ready:
            return all(answer.status_code == 200 for answer in answers.values())
        return all(
            answer.status_code == 503 and answer.json()["checks"][missing] is False for answer in answers.values()
        )

    await wait_until(reached, timeout=timeout, what=f"every service {'ready' if ready else f'unready ({missing})'}")
