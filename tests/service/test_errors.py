"""An error means the same whichever way its statement reached PostgreSQL: through SQLAlchemy
(the HTTP reads, the commands) or on the driver's own connection (the paths every declaration
takes). Real errors of a real server, not made-up ones."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_kit.db import driver, sessions
from vigie_kit.errors import driver_error, is_transient, is_unique_violation

from .conftest import Database

_DUPLICATE = (
    "INSERT INTO processed_events (consumer, event_id) VALUES ('tests', '00000000-0000-0000-0000-000000000001')"
)


async def _raised_by_session(engine: AsyncEngine, sql: str) -> BaseException:
    try:
        async with sessions(engine).begin() as session:
            await session.execute(sa.text(sql))
    except Exception as error:
        return error
    raise AssertionError(f"{sql!r} succeeded")


async def _raised_by_driver(engine: AsyncEngine, sql: str) -> BaseException:
    try:
        async with driver(engine) as connection:
            await connection.execute(sql)
    except Exception as error:
        return error
    raise AssertionError(f"{sql!r} succeeded")


async def test_a_duplicate_key_is_refused_data_through_either_way(stats_db: Database) -> None:
    engine, observer = stats_db
    await observer.execute(_DUPLICATE)
    for raised in (await _raised_by_session(engine, _DUPLICATE), await _raised_by_driver(engine, _DUPLICATE)):
        assert is_unique_violation(raised)
        assert not is_transient(raised)
        assert getattr(driver_error(raised), "sqlstate", None) == "23505"


async def test_a_server_process_ended_under_a_statement_is_an_outage_through_either_way(stats_db: Database) -> None:
    engine, _ = stats_db
    ended = "SELECT pg_terminate_backend(pg_backend_pid())"  # SQLSTATE 57P01, the connection dropped
    for raised in (await _raised_by_session(engine, ended), await _raised_by_driver(engine, ended)):
        assert is_transient(raised), repr(raised)
        assert not is_unique_violation(raised)


async def test_a_value_the_column_cannot_hold_is_refused_data_through_either_way(stats_db: Database) -> None:
    engine, _ = stats_db
    too_long = "INSERT INTO processed_events (consumer, event_id) VALUES ('tests', 'not a uuid')"
    for raised in (await _raised_by_session(engine, too_long), await _raised_by_driver(engine, too_long)):
        assert not is_transient(raised), repr(raised)
        assert getattr(driver_error(raised), "sqlstate", None) == "22P02"  # invalid text representation
