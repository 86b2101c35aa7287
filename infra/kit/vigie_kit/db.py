"""PostgreSQL access: one async engine per service, units of work, migrations run on start."""

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

Sessions = async_sessionmaker[AsyncSession]

# Any constant works: it only has to be the same for every instance of one service, so that
# two instances starting together migrate one after the other.
_MIGRATION_LOCK = 0x76696769


def create_engine(url: str, *, pool_size: int = 10, search_path: str | None = None) -> AsyncEngine:
    """``search_path`` points every connection of the engine at another schema (a rebuild's):
    set when the connection opens, so no cached statement ever mixes two schemas."""
    connect_args = {"server_settings": {"search_path": search_path}} if search_path else {}
    return create_async_engine(
        url,
        # JSONB columns (declarations, payloads, outbox events) in and out: orjson is about ten
        # times faster than the standard library at both, and the pipeline does a lot of both.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping before each checkout (three round trips per transaction): a connection broken
        # by a database restart fails its next use as a transient error, which invalidates the
        # pool; consumers redeliver, and HTTP callers get a 503 to retry on.
        connect_args=connect_args,
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: Sessions) -> AsyncIterator[AsyncSession]:
    """A transaction: committed if the block ends normally, rolled back if it raises."""
    async with factory.begin() as session:
        yield session


@asynccontextmanager
async def one_read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for a single read, which needs no transaction around it: no BEGIN and no
    COMMIT, two round trips fewer than a unit of work."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Many small writes, one transaction: ``write`` applies a batch and returns one result per
    item. Each caller waits for the commit that holds its item, so nothing is reported done
    before it is durable; items arriving while a transaction commits go into the next one.

    When a batch fails with an error that ``alone`` says may be one item's doing (a constraint
    it breaks), each item is written again in a transaction of its own, so that only the
    culprit fails; otherwise (the database is unreachable) every caller gets the error."""

    def __init__(
        self,
        sessions: Callable[[], Sessions],
        write: Callable[[AsyncSession, list[T]], Awaitable[Sequence[R]]],
        *,
        alone: Callable[[Exception], bool] = lambda _: False,
    ) -> None:
        self.sessions = sessions
        self.write = write
        self.alone = alone
        self._waiting: list[_Waiting[T, R]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        (done,) = self.enqueue([item])
        return await done

    def enqueue(self, items: Sequence[T]) -> list["asyncio.Future[R]"]:
        """Queue ``items`` to be written in one transaction (the same one for all of them), and
        return the future of each one's result."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        waiting = [_Waiting(item, loop.create_future(), context) for item in items]
        self._waiting.extend(waiting)
        if waiting and (self._writer is None or self._writer.done()):
            self._writer = asyncio.create_task(self._write_all())
        return [w.done for w in waiting]

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                # In the context of the batch's first writer: its statements are in that trace.
                await asyncio.create_task(self._write(batch), context=batch[0].context)
        except asyncio.CancelledError:
            for waiting in self._waiting:
                waiting.done.cancel()
            raise

    async def _write(self, batch: list["_Waiting[T, R]"]) -> None:
        try:
            async with unit_of_work(self.sessions()) as session:
                results = await self.write(session, [waiting.item for waiting in batch])
            answers = list(zip(batch, results, strict=True))
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.done.cancel()
            raise
        except Exception as error:
            if len(batch) > 1 and self.alone(error):
                try:
                    for one in batch:
                        await self._write([one])
                except asyncio.CancelledError:
                    for waiting in batch:
                        waiting.done.cancel()
                    raise
                return
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_exception(error)
            return
        for waiting, result in answers:
            if not waiting.done.done():
                waiting.done.set_result(result)


@dataclass(frozen=True, slots=True)
class _Waiting(Generic[T, R]):
    item: T
    done: asyncio.Future[R]
    context: contextvars.Context


async def migrate(engine: AsyncEngine, migrations: Path, *, revision: str = "head") -> None:
    """Upgrade the service's database to the newest revision of its own migrations (or to
    ``revision``, to check a migration on data made before it). A running service migrates in a
    process of its own (``vigie_kit.migrate``), so that Alembic, Mako and Pygments, which it would
    never use again, do not stay in its memory (about 10 MB resident)."""
    from alembic import command  # noqa: PLC0415 - see above
    from alembic.config import Config  # noqa: PLC0415

    def upgrade(connection: Connection) -> None:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config = Config()
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)


def run_migrations_online() -> None:
    """Body of every service's ``migrations/env.py``: migrate on the connection we were given."""
    from alembic import context  # noqa: PLC0415 - only importable while Alembic runs env.py

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run from the service (vigie_kit.db.migrate), not the CLI")
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
