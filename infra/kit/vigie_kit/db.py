"""PostgreSQL access: one async engine per service, units of work, migrations run on start."""

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .tables import same_type_or_not

Sessions = async_sessionmaker[AsyncSession]

# Any constant works: it only has to be the same for every instance of one service, so that
# two instances starting together migrate one after the other.
_MIGRATION_LOCK = 0x76696769


def create_engine(url: str, *, pool_size: int = 10, search_path: str | None = None) -> AsyncEngine:
    """``search_path`` points every connection of the engine at another schema (a rebuild's):
    set when the connection opens, so no cached statement ever mixes two schemas."""
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    options: dict[str, Any] = {
        # The driver's prepared statements stay cached (100 a connection, least recently used out)
        # without an expiry timer each: a timer is made in the context of the statement's first
        # caller and would hold it, with all it refers to, for the timer's five minutes.
        "max_cached_statement_lifetime": 0,
    }
    if search_path:
        options["server_settings"] = {"search_path": search_path}

    async def connect() -> asyncpg.Connection:
        # In a context of its own: the connection's socket reader is made in the context it opens
        # in, and would hold it, and all it refers to (the request or the consumer's whole batch
        # that happened to need one more connection), for as long as the connection lives.
        return await asyncio.create_task(asyncpg.connect(dsn, **options), context=contextvars.Context())

    return create_async_engine(
        url,
        async_creator=connect,
        # JSONB columns (declarations, payloads, outbox events) in and out: orjson does both in a
        # fraction of the standard library's time, and the pipeline does a lot of both.
        json_serializer=json_text,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No ping before each checkout (three round trips per transaction): a connection broken
        # by a database restart fails its next use as a transient error, which invalidates the
        # pool; consumers redeliver, and HTTP callers get a 503 to retry on.
    )


def json_text(value: Any) -> str:
    """JSON for a JSONB column, as the engine writes it (orjson; keys need not be strings)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def sessions(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: Sessions) -> AsyncIterator[AsyncSession]:
    """A transaction: committed if the block ends normally, rolled back if it raises."""
    async with factory.begin() as session:
        yield session


@asynccontextmanager
async def driver(engine: AsyncEngine, *, transaction: bool = True) -> AsyncIterator[asyncpg.Connection]:
    """One of the engine's pooled connections as the driver's own (asyncpg), in a transaction
    unless told otherwise (a single read needs none: no BEGIN and no COMMIT).

    For the statements on the paths every declaration takes (the intake, the credential read,
    the outbox relay, every consumer, the delivery worker): SQLAlchemy's statement handling costs
    several times what the driver's does (BENCHMARKS.md). The rest (reads of the HTTP API,
    commands) stays with SQLAlchemy.
    Parameters are numbered (``$1``); a JSONB value goes in as its JSON text and comes out
    decoded.

    A connection that fails (closed, broken, lost by the driver, cancelled) is dropped from the
    pool, which pings nothing and would hand it out again."""
    async with engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        own: asyncpg.Connection = pooled.driver_connection  # type: ignore[assignment]
        try:
            if transaction:
                async with own.transaction():
                    yield own
            else:
                yield own
        except BaseException as error:
            # The database refusing a statement, or the caller's own code raising, leaves the
            # connection as the transaction's rollback left it; the network or the driver failing,
            # or a cancellation in the middle of a statement, may not.
            if own.is_closed() or not isinstance(error, Exception) or isinstance(error, _CONNECTION_ERRORS):
                await connection.invalidate()
            raise


_CONNECTION_ERRORS = (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)
Rows = Sequence[dict[str, Any]]


async def insert_rows(
    connection: asyncpg.Connection, writes: Sequence[tuple[sa.Table, Rows]], *, on_conflict: str = ""
) -> None:
    """Insert rows into several tables by one statement on the driver's connection: each
    table's columns sent as arrays and ``unnest``-ed, each table's ``INSERT`` a step of one
    ``WITH`` chain. One round trip, and the same few statement texts each time, which the
    driver prepares once. Foreign keys are checked once the statement is done, so a row may
    refer to one written by the same call. The rows of a table have the same keys; ``None`` is
    SQL ``NULL`` (in a JSONB column too), a JSONB value any JSON ``orjson`` writes.

    ``on_conflict`` is what each ``INSERT`` does with a row whose key its table holds already,
    as SQL after ``ON CONFLICT``: ``DO NOTHING`` leaves the row there as it is; ``(key) DO UPDATE
    SET … = excluded.…`` (one table) makes an upsert. It is a constant of the caller's, never
    input: it goes into the statement's text."""
    writes = [(table, rows) for table, rows in writes if rows]
    if not writes:
        return
    sql, columns = _insert_statement(tuple((table, tuple(rows[0])) for table, rows in writes), on_conflict)
    arrays = [
        [_jsonb(row[name]) if jsonb else row[name] for row in rows]
        for (_, rows), names in zip(writes, columns, strict=True)
        for name, jsonb in names
    ]
    await connection.execute(sql, *arrays)


@functools.lru_cache(maxsize=64)
def _insert_statement(
    shapes: tuple[tuple[sa.Table, tuple[str, ...]], ...], on_conflict: str
) -> tuple[str, list[list[tuple[str, bool]]]]:
    """The statement of ``insert_rows`` for tables and their columns, and for each table its
    columns in parameter order, each with whether its values go as JSON text."""
    steps, columns, number = [], [], 1
    conflicts = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    for table, names in shapes:
        typed = [(name, *_array_type(table.c[name].type)) for name in names]
        params = ", ".join(f"${number + i}::{kind}[]" for i, (_, kind, _) in enumerate(typed))
        values = ", ".join(f"{name}::jsonb" if jsonb else name for name, _, jsonb in typed)
        listed = ", ".join(names)
        # Names of the table's own columns (``table.c`` knows no other), nothing from outside.
        steps.append(
            f"INSERT INTO {table.name} ({listed}) SELECT {values} FROM unnest({params}) AS r({listed}){conflicts}"  # noqa: S608
        )
        columns.append([(name, jsonb) for name, _, jsonb in typed])
        number += len(names)
    *earlier, last = steps
    chain = ", ".join(f"w{i} AS ({step})" for i, step in enumerate(earlier))
    return (f"WITH {chain} {last}" if chain else last), columns


_PG = PGDialect()  # type: ignore[no-untyped-call]


def _array_type(column_type: sa.types.TypeEngine[Any]) -> tuple[str, bool]:
    """The element type of a column's array parameter, and whether its values go as JSON text."""
    if isinstance(column_type, postgresql.JSONB | sa.JSON):
        return "text", True
    if isinstance(column_type, sa.ARRAY):
        raise TypeError("an array column cannot be unnested from an array parameter")
    return column_type.compile(dialect=_PG).lower(), False


def _jsonb(value: Any) -> str | None:
    return None if value is None else json_text(value)


U = TypeVar("U")
T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[U, T, R]):
    """Many small writes, one transaction: ``begin()`` opens it (a session's ``unit_of_work``,
    or a ``driver`` connection's), ``write`` applies a batch in it and returns one result per
    item. Each caller waits for the commit that holds its item, so nothing is reported done
    before it is durable; items arriving while a transaction commits go into the next one.

    When a batch fails with an error that ``alone`` says may be one item's doing (a constraint
    it breaks), each item is written again in a transaction of its own, so that only the
    culprit fails; otherwise (the database is unreachable) every caller gets the error."""

    def __init__(
        self,
        begin: Callable[[], AbstractAsyncContextManager[U]],
        write: Callable[[U, list[T]], Awaitable[Sequence[R]]],
        *,
        alone: Callable[[Exception], bool] = lambda _: False,
    ) -> None:
        self.begin = begin
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
            # Each batch is written in its first writer's context; the writer itself keeps none
            # (a copy of this caller's would stay alive, and all it holds, as long as the task).
            self._writer = asyncio.create_task(self._write_all(), context=contextvars.Context())
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
            async with self.begin() as unit:
                results = await self.write(unit, [waiting.item for waiting in batch])
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


@asynccontextmanager
async def command_session(database_url: str, migrations: Path) -> AsyncIterator[AsyncSession]:
    """A service's command (``credentials create``, ``intel load``, ``deliveries replay``): its
    database migrated first, then one unit of work on a connection of its own, closed after."""
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate(engine, migrations)
        async with unit_of_work(sessions(engine)) as session:
            yield session
    finally:
        await engine.dispose()


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


def run_migrations_online(target_metadata: sa.MetaData) -> None:
    """Body of every service's ``migrations/env.py``: migrate on the connection we were given,
    towards the schema its models describe (``vigie_kit.tables.service_schema``)."""
    from alembic import context  # noqa: PLC0415 - only importable while Alembic runs env.py

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run from the service (vigie_kit.db.migrate), not the CLI")
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=same_type_or_not)
    with context.begin_transaction():
        context.run_migrations()


async def schema_drift(engine: AsyncEngine, target_metadata: sa.MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the migrated database match the models:
    empty when the migrations and the models agree."""
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415 - a check, not the service's path
    from alembic.migration import MigrationContext  # noqa: PLC0415

    def compare(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": same_type_or_not})
        return list(compare_metadata(context, target_metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)
