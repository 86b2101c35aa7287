"""The service-layer tier: each service's use cases against a real PostgreSQL server of their
own (profile ``service``), without Kafka or the other services. Each test gets an empty database
of its service's role, migrated to the head: seconds, where the end-to-end tier takes minutes."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_declaration.bootstrap import MIGRATIONS as DECLARATION
from vigie_enrichment.bootstrap import MIGRATIONS as ENRICHMENT
from vigie_kit.db import migrate
from vigie_notification.bootstrap import MIGRATIONS as NOTIFICATION
from vigie_stack.config import profile
from vigie_stack.stack import Stack
from vigie_stats.bootstrap import MIGRATIONS as STATS

from ..support.pipeline import scratch_database

Database = tuple[AsyncEngine, asyncpg.Connection]


@pytest.fixture(scope="session")
def database_server() -> Iterator[Stack]:
    stack = Stack(profile("service"))
    stack.reset()  # every run starts from an empty state
    stack.config.state.mkdir(parents=True)
    stack.postgres.start()
    stack.postgres.provision()
    yield stack
    stack.postgres.stop()


def _database_of(service: str, migrations: Path) -> Any:
    """A fixture: an empty database of ``service``'s role, migrated to the head, dropped after."""

    @pytest_asyncio.fixture
    async def database(database_server: Stack) -> AsyncIterator[Database]:
        async with scratch_database(database_server, service) as (engine, connection):
            await migrate(engine, migrations)
            yield engine, connection

    return database


declaration_db = _database_of("declaration", DECLARATION)
enrichment_db = _database_of("enrichment", ENRICHMENT)
notification_db = _database_of("notification", NOTIFICATION)
stats_db = _database_of("stats", STATS)
