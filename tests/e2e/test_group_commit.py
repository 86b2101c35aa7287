"""Group commit on the real database: many writers, few transactions, nobody told "done" before
its write is durable, a failed transaction fails only the writers it held, and a writer the
database refuses can be made to fail alone; what a writer's context holds is let go once its
write is done."""

import asyncio
import contextvars
import gc
import weakref
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_kit.db import GroupCommit, create_engine, sessions, unit_of_work
from vigie_stack.stack import Stack


@pytest_asyncio.fixture
async def scratch(stack: Stack) -> AsyncIterator[tuple[GroupCommit[AsyncSession, int, int], asyncpg.Connection]]:
    engine = create_engine(stack.postgres.database_url("notification"), pool_size=2)
    observer = await asyncpg.connect(stack.postgres.dsn("notification"))
    await observer.execute("CREATE TABLE IF NOT EXISTS group_commit_test (n int PRIMARY KEY, tx bigint NOT NULL)")
    await observer.execute("TRUNCATE group_commit_test")

    async def write(session: AsyncSession, items: list[int]) -> list[int]:
        if any(n < 0 for n in items):
            raise ValueError("negative numbers are refused")
        tx = int(await session.scalar(sa.text("SELECT txid_current()")) or 0)
        await session.execute(
            sa.text("INSERT INTO group_commit_test VALUES (:n, :tx)"), [{"n": n, "tx": tx} for n in items]
        )
        return [tx] * len(items)

    factory = sessions(engine)
    try:
        yield GroupCommit(lambda: unit_of_work(factory), write), observer
    finally:
        await observer.execute("DROP TABLE group_commit_test")
        await observer.close()
        await engine.dispose()


async def test_writers_share_transactions_and_hear_back_only_once_committed(
    scratch: tuple[GroupCommit[AsyncSession, int, int], asyncpg.Connection],
) -> None:
    group, observer = scratch
    reading = asyncio.Lock()  # one connection observes for all the writers

    async def writer(n: int) -> None:
        tx = await group.submit(n)
        # Told "done": the row is there for anybody else to read, in the transaction it names.
        async with reading:
            assert await observer.fetchval("SELECT tx FROM group_commit_test WHERE n = $1", n) == tx

    await asyncio.gather(*(writer(n) for n in range(200)))

    assert await observer.fetchval("SELECT count(*) FROM group_commit_test") == 200
    transactions = await observer.fetchval("SELECT count(DISTINCT tx) FROM group_commit_test")
    assert 1 <= transactions < 50


async def test_a_failed_transaction_fails_its_own_writers_and_the_next_one_goes_through(
    scratch: tuple[GroupCommit[AsyncSession, int, int], asyncpg.Connection],
) -> None:
    group, observer = scratch
    # Submitted in the same turn of the loop, the three share one transaction.
    together = [asyncio.ensure_future(group.submit(n)) for n in (1, -1, 2)]
    results = await asyncio.gather(*together, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert await observer.fetchval("SELECT count(*) FROM group_commit_test") == 0

    assert await group.submit(3) > 0
    assert await observer.fetchval("SELECT array_agg(n) FROM group_commit_test") == [3]
    with pytest.raises(ValueError, match="negative"):
        await group.submit(-5)


async def test_a_writer_the_database_refuses_fails_alone_when_told_to(
    scratch: tuple[GroupCommit[AsyncSession, int, int], asyncpg.Connection],
) -> None:
    group, observer = scratch
    alone = GroupCommit(group.begin, group.write, alone=lambda error: isinstance(error, sa.exc.IntegrityError))
    await alone.submit(7)
    # 7 again breaks the primary key: the batch fails, then each is written on its own.
    together = [asyncio.ensure_future(alone.submit(n)) for n in (5, 7, 6)]
    results = await asyncio.gather(*together, return_exceptions=True)
    assert isinstance(results[1], sa.exc.IntegrityError)
    assert isinstance(results[0], int)
    assert isinstance(results[2], int)
    assert await observer.fetchval("SELECT array_agg(n ORDER BY n) FROM group_commit_test") == [5, 6, 7]
    # An error it is not told to isolate still fails the whole batch.
    together = [asyncio.ensure_future(alone.submit(n)) for n in (8, -1)]
    results = await asyncio.gather(*together, return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)
    assert await observer.fetchval("SELECT count(*) FROM group_commit_test") == 3


class _Held:
    """Something a writer's context holds (a request, a consumer's batch)."""


_HELD: contextvars.ContextVar[_Held] = contextvars.ContextVar("held")


async def test_what_a_writers_context_holds_is_let_go_once_its_write_is_done(
    scratch: tuple[GroupCommit[AsyncSession, int, int], asyncpg.Connection],
) -> None:
    group, _ = scratch

    async def writer(n: int) -> weakref.ref[_Held]:
        held = _Held()
        _HELD.set(held)
        await group.submit(n)
        return weakref.ref(held)

    # Each in a task of its own, so in a context of its own, as requests and batches are.
    tasks = [asyncio.create_task(writer(n)) for n in (11, 12)]
    gone = [await task for task in tasks]
    del tasks
    await asyncio.sleep(0.01)  # the loop lets go of the handles that woke this test up
    gc.collect()
    assert [ref() for ref in gone] == [None, None], (
        "neither the group's writer nor a cached statement keeps a writer's context"
    )
