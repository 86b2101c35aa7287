"""What enrichment concluded of each revision, kept so that a revision can be concluded again
when its campaigns change."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from vigie_kit.db import insert_rows

from .orm import Enrichment

_ENRICHMENTS = Enrichment.__table__  # type: ignore[attr-defined]
# A revision enriched again (a campaign formed with it) has what was concluded replaced.
_REPLACE = "(declaration_id, revision) DO UPDATE SET result = excluded.result, enriched_at = excluded.enriched_at"
_LATEST = (
    "SELECT DISTINCT ON (declaration_id) declaration_id, result FROM enrichments"
    " WHERE declaration_id = ANY($1::uuid[]) ORDER BY declaration_id, revision DESC"
)


async def keep(connection: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One row a revision, replacing what an earlier enrichment of it concluded."""
    await insert_rows(connection, [(_ENRICHMENTS, list(rows))], on_conflict=_REPLACE)


async def latest(connection: asyncpg.Connection, declaration_ids: Sequence[UUID]) -> list[tuple[UUID, Any]]:
    """What was last concluded of each declaration's latest revision (its JSON), for those kept."""
    return [(row[0], row[1]) for row in await connection.fetch(_LATEST, list(declaration_ids))]
