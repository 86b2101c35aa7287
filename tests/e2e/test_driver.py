"""The driver's own connection on the real database (``vigie_kit.db.driver``): rows for several
tables written by one statement, nothing written when the statement fails, rows already there
left as they are or updated as told, and a connection that breaks dropped from the pool while one
the database merely refused, or whose caller's code raised, is kept."""

from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_kit.db import create_engine, driver, insert_rows
from vigie_kit.errors import is_transient
from vigie_stack.stack import Stack

_METADATA = sa.MetaData()
PARENTS = sa.Table(
    "driver_test_parent",
    _METADATA,
    sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("facts", postgresql.JSONB),
)
CHILDREN = sa.Table(
    "driver_test_child",
    _METADATA,
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("parent_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("driver_test_parent.id"), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("blob", sa.LargeBinary),
)


@pytest_asyncio.fixture
async def scratch(stack: Stack) -> AsyncIterator[tuple[AsyncEngine, asyncpg.Connection]]:
    engine = create_engine(stack.postgres.database_url("notification"), pool_size=1)
    observer = await asyncpg.connect(stack.postgres.dsn("notification"))
    await observer.execute("DROP TABLE IF EXISTS driver_test_child, driver_test_parent")
    async with engine.begin() as connection:
        await connection.run_sync(_METADATA.create_all)
    try:
        yield engine, observer
    finally:
        await observer.execute("DROP TABLE driver_test_child, driver_test_parent")
        await observer.close()
        await engine.dispose()


async def test_rows_of_several_tables_go_in_one_statement_and_read_back_as_written(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch
    first, second = uuid4(), uuid4()
    parents = [
        {"id": first, "name": "CH de Cavaillon", "facts": {"lits": 220, "sites": ["nord", "sud"], "note": "l'été"}},
        {"id": second, "name": "EHPAD Les Tilleuls", "facts": None},
    ]
    children = [
        {"n": n, "parent_id": first if n % 2 else second, "at": None, "blob": bytes([n, 0, 255])} for n in range(5)
    ]
    async with driver(engine) as connection:
        # Children refer to parents of the same call: keys are checked once the statement is done.
        await insert_rows(connection, [(PARENTS, parents), (CHILDREN, children), (CHILDREN, [])])

    rows = await observer.fetch(
        "SELECT id, name, facts::text, facts IS NULL AS missing FROM driver_test_parent ORDER BY name"
    )
    assert [(r["id"], r["name"]) for r in rows] == [(first, "CH de Cavaillon"), (second, "EHPAD Les Tilleuls")]
    assert await observer.fetchval(
        "SELECT facts = $1::jsonb FROM driver_test_parent WHERE id = $2",
        '{"lits": 220, "sites": ["nord", "sud"], "note": "l\'été"}',
        first,
    )
    assert rows[1]["missing"], "None is SQL NULL, not JSON null"
    blobs = await observer.fetch("SELECT n, blob, at FROM driver_test_child ORDER BY n")
    assert [(r["n"], r["blob"], r["at"]) for r in blobs] == [(c["n"], c["blob"], None) for c in children]


async def test_a_statement_the_database_refuses_writes_nothing_and_keeps_its_connection(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch
    parent = uuid4()
    async with driver(engine) as connection:
        await insert_rows(connection, [(PARENTS, [{"id": parent, "name": "CH", "facts": {}}])])
        backend = await connection.fetchval("SELECT pg_backend_pid()")

    # A second child with the same key, beside a new parent: the whole statement is refused.
    with pytest.raises(asyncpg.UniqueViolationError) as refused:
        async with driver(engine) as connection:
            await insert_rows(
                connection,
                [
                    (PARENTS, [{"id": uuid4(), "name": "CHU", "facts": {}}]),
                    (CHILDREN, [{"n": 1, "parent_id": parent}, {"n": 1, "parent_id": parent}]),
                ],
            )
    assert not is_transient(refused.value), "a row the database refuses is the row's doing"
    assert await observer.fetchval("SELECT count(*) FROM driver_test_parent") == 1
    assert await observer.fetchval("SELECT count(*) FROM driver_test_child") == 0

    async with driver(engine, transaction=False) as connection:
        assert await connection.fetchval("SELECT pg_backend_pid()") == backend, "the refusal kept the connection"


async def test_a_row_naming_a_column_its_table_lacks_is_refused_before_any_statement(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch
    hostile = {"id": uuid4(), "name": "x", "facts) VALUES (NULL); DROP TABLE driver_test_parent; --": 1}
    with pytest.raises(KeyError):
        async with driver(engine) as connection:
            await insert_rows(connection, [(PARENTS, [hostile])])
    assert await observer.fetchval("SELECT count(*) FROM driver_test_parent") == 0


async def test_a_connection_broken_under_the_pool_fails_as_transient_and_is_not_handed_out_again(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch
    async with driver(engine, transaction=False) as connection:
        backend = await connection.fetchval("SELECT pg_backend_pid()")
    # The pooled connection's server process goes away while nobody holds it (a restart, say).
    assert await observer.fetchval("SELECT pg_terminate_backend($1)", backend)

    with pytest.raises(Exception) as broken:  # noqa: PT011 - which one depends on when the driver notices
        async with driver(engine) as connection:
            await connection.fetchval("SELECT 1")
    assert is_transient(broken.value), repr(broken.value)

    async with driver(engine) as connection:
        assert await connection.fetchval("SELECT pg_backend_pid()") != backend


async def test_rows_already_there_are_left_as_they_are_or_updated_as_told(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch
    kept, new = uuid4(), uuid4()
    async with driver(engine) as connection:
        await insert_rows(connection, [(PARENTS, [{"id": kept, "name": "CH de Cavaillon", "facts": {"v": 1}}])])

    async with driver(engine) as connection:
        await insert_rows(
            connection,
            [
                (
                    PARENTS,
                    [{"id": kept, "name": "renamed", "facts": {"v": 2}}, {"id": new, "name": "CHU", "facts": {}}],
                ),
                (CHILDREN, [{"n": 1, "parent_id": kept}]),
            ],
            on_conflict="DO NOTHING",
        )

    rows = await observer.fetch("SELECT id, name, facts->>'v' AS v FROM driver_test_parent ORDER BY name")
    assert [(r["id"], r["name"], r["v"]) for r in rows] == [(kept, "CH de Cavaillon", "1"), (new, "CHU", None)]
    assert await observer.fetchval("SELECT count(*) FROM driver_test_child") == 1

    # An upsert: the name is replaced, only where the facts say a later version.
    async with driver(engine) as connection:
        await insert_rows(
            connection,
            [
                (
                    PARENTS,
                    [
                        {"id": kept, "name": "CH Cavaillon-Lauris", "facts": {"v": 2}},
                        {"id": new, "name": "CHU 2", "facts": None},
                    ],
                )
            ],
            on_conflict="(id) DO UPDATE SET name = excluded.name, facts = excluded.facts"
            " WHERE (driver_test_parent.facts->>'v')::int < (excluded.facts->>'v')::int",
        )
    rows = await observer.fetch("SELECT id, name, facts->>'v' AS v FROM driver_test_parent ORDER BY name")
    assert [(r["id"], r["name"], r["v"]) for r in rows] == [(kept, "CH Cavaillon-Lauris", "2"), (new, "CHU", None)]


async def test_a_failure_of_the_callers_own_code_rolls_back_and_keeps_the_connection(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, observer = scratch

    async def write_then_fail() -> int:
        async with driver(engine) as connection:
            await insert_rows(connection, [(PARENTS, [{"id": uuid4(), "name": "CH", "facts": None}])])
            backend: int = await connection.fetchval("SELECT pg_backend_pid()")
            raise LookupError(backend)  # a domain refusal, say: the connection itself is fine

    with pytest.raises(LookupError) as refused:
        await write_then_fail()
    assert await observer.fetchval("SELECT count(*) FROM driver_test_parent") == 0
    async with driver(engine, transaction=False) as connection:
        assert await connection.fetchval("SELECT pg_backend_pid()") == refused.value.args[0]
