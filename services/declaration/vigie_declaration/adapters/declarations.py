"""The declarations and what is kept beside each: revisions, timeline, delivery outcomes,
campaign sizes, audit trail and Idempotency-Keys. Each statement sits behind a function named
for what it does; the intake's and the consumers' run on the driver's connection (they are on
every declaration's path), the HTTP API's reads on the ORM's session."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_kit.db import insert_rows
from vigie_kit.outbox import OUTBOX, OutboxRow

from .orm import (
    AuditEntry,
    CampaignSize,
    Declaration,
    DeclarationNotification,
    DeclarationRevision,
    IdempotencyKey,
    TimelineEntry,
)

_DECLARATIONS = Declaration.__table__  # type: ignore[attr-defined]
_NOTIFICATIONS = DeclarationNotification.__table__  # type: ignore[attr-defined]
_TIMELINE = TimelineEntry.__table__  # type: ignore[attr-defined]
_REVISIONS = DeclarationRevision.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
_IDEMPOTENCY = IdempotencyKey.__table__  # type: ignore[attr-defined]
_CAMPAIGN_SIZES = CampaignSize.__table__  # type: ignore[attr-defined]

Row = dict[str, Any]

# ---- the intake (driver's connection)

_SERIALS = "SELECT nextval('declaration_reference_seq') FROM generate_series(1, $1)"
_KEY_COLUMNS = ("principal", "key", "request_hash", "declaration_id", "status_code", "response", "created_at")
_DECLARATION_COLUMNS = tuple(_DECLARATIONS.c.keys())
# The key's columns and the declaration's, under their own names (none is shared).
_KNOWN_KEYS = (
    "SELECT k.principal, k.key, k.request_hash, k.declaration_id, k.status_code, k.response, k.created_at, d.*"
    " FROM idempotency_keys k JOIN declarations d ON d.id = k.declaration_id"
    " WHERE (k.principal, k.key) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
)


async def next_serials(connection: asyncpg.Connection, count: int) -> list[int]:
    """The serial numbers of the next ``count`` references."""
    if count == 0:
        return []
    return [int(row[0]) for row in await connection.fetch(_SERIALS, count)]


async def known_keys(
    connection: asyncpg.Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[IdempotencyKey, Declaration]]:
    """Which of these (principal, Idempotency-Key) were used before, with the declaration each made."""
    if not keys:
        return {}
    rows = await connection.fetch(_KNOWN_KEYS, [p for p, _ in keys], [k for _, k in keys])
    known = {}
    for row in rows:
        remembered = IdempotencyKey(**{name: row[name] for name in _KEY_COLUMNS})
        declaration = Declaration(**{name: row[name] for name in _DECLARATION_COLUMNS})
        known[remembered.principal, remembered.key] = (remembered, declaration)
    return known


async def add_declarations(
    connection: asyncpg.Connection,
    *,
    declarations: Sequence[Row],
    revisions: Sequence[Row],
    timeline: Sequence[Row],
    audit: Sequence[Row],
    events: Sequence[OutboxRow],
    remembered: Sequence[Row],
) -> None:
    """New declarations and all that goes with them, in one statement."""
    await insert_rows(
        connection,
        [
            (_DECLARATIONS, list(declarations)),
            (_REVISIONS, list(revisions)),
            (_TIMELINE, list(timeline)),
            (_AUDIT, list(audit)),
            (OUTBOX, list(events)),
            (_IDEMPOTENCY, list(remembered)),
        ],
    )


# ---- what the downstream events tell (driver's connection)


@dataclass
class StatusFacts:
    """What a declaration's status is decided from, besides its deliveries."""

    id: UUID
    revision: int
    enriched_revision: int | None
    ars_code: str | None
    status: str
    at: datetime | None = None  # when the latest fact applied to it occurred


_LOCK = (
    "SELECT id, revision, enriched_revision, ars->>'code', status FROM declarations"
    " WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
)
_OUTCOMES_OF = (
    "SELECT n.declaration_id, n.recipient_kind, n.recipient_code, n.outcome FROM declaration_notifications n"
    " JOIN unnest($1::uuid[], $2::int[]) AS r(id, revision) ON n.declaration_id = r.id AND n.revision = r.revision"
)
_SET_STATUSES = (
    "UPDATE declarations AS d SET status = v.status, updated_at = v.at"
    " FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, status, at) WHERE d.id = v.id"
)
# What enrichment concluded, for each declaration ($1), JSON as text.
_CONCLUDE = (
    "UPDATE declarations AS d SET enriched_revision = v.revision, departement = v.departement::jsonb,"
    " region = v.region::jsonb, ars = v.ars::jsonb, severity = v.severity::jsonb, threat = v.threat::jsonb"
    " FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    " AS v(id, revision, departement, region, ars, severity, threat) WHERE d.id = v.id"
)
# A size told late (a replay, an older revision's event) never shrinks a campaign.
_LARGER = (
    "(id) DO UPDATE SET declarations = excluded.declarations, updated_at = excluded.updated_at"
    " WHERE campaign_sizes.declarations < excluded.declarations"
)
# Outcomes of one delivery arrive in order, but a replay must not rewind them.
_LATER_OUTCOME = (
    "(delivery_id) DO UPDATE SET outcome = excluded.outcome, attempt = excluded.attempt, at = excluded.at,"
    " error = excluded.error WHERE declaration_notifications.attempt <= excluded.attempt"
)


async def lock_for_status(connection: asyncpg.Connection, ids: set[UUID]) -> dict[UUID, StatusFacts]:
    """Lock these declarations, in id order, and read what their status is decided from; a
    declaration the database does not hold is absent."""
    rows = await connection.fetch(_LOCK, list(ids))
    return {row[0]: StatusFacts(*row) for row in rows}


async def outcomes_of(connection: asyncpg.Connection, revisions: Sequence[tuple[UUID, int]]) -> list[tuple[Any, ...]]:
    """(declaration, recipient kind, recipient code, outcome) of each delivery of these revisions."""
    rows = await connection.fetch(_OUTCOMES_OF, [d for d, _ in revisions], [r for _, r in revisions])
    return [tuple(row) for row in rows]


async def set_statuses(connection: asyncpg.Connection, changes: Sequence[tuple[UUID, str, datetime]]) -> None:
    """(declaration, new status, when) for each declaration whose status changed."""
    if changes:
        await connection.execute(_SET_STATUSES, *(list(column) for column in zip(*changes, strict=True)))


async def conclude(connection: asyncpg.Connection, conclusions: Sequence[tuple[Any, ...]]) -> None:
    """(declaration, revision, département, region, ARS, severity, threat; JSON as text) of each
    declaration whose enrichment is newer than the one it holds."""
    if conclusions:
        await connection.execute(_CONCLUDE, *(list(column) for column in zip(*conclusions, strict=True)))


async def keep_campaign_sizes(connection: asyncpg.Connection, rows: Sequence[Row]) -> None:
    await insert_rows(connection, [(_CAMPAIGN_SIZES, list(rows))], on_conflict=_LARGER)


async def keep_latest_outcomes(connection: asyncpg.Connection, rows: Sequence[Row]) -> None:
    await insert_rows(connection, [(_NOTIFICATIONS, list(rows))], on_conflict=_LATER_OUTCOME)


async def add_timeline(connection: asyncpg.Connection, entries: Sequence[Row]) -> None:
    await insert_rows(connection, [(_TIMELINE, list(entries))])


# ---- the HTTP API (ORM's session)


async def remembered_key(session: AsyncSession, principal: str, key: str) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (principal, key))


async def declaration(session: AsyncSession, declaration_id: UUID, *, to_change: bool = False) -> Declaration | None:
    """The declaration, locked until the transaction ends when it is ``to_change``."""
    return await session.get(Declaration, declaration_id, with_for_update=to_change)


async def add_revision(session: AsyncSession, revision: Row, timeline: Row) -> None:
    await session.execute(insert(_REVISIONS), revision)
    await session.execute(insert(_TIMELINE), [timeline])


async def add_audit(session: AsyncSession, entry: Row) -> None:
    await session.execute(insert(_AUDIT), entry)


async def remember_key(session: AsyncSession, remembered: Row) -> None:
    await session.execute(insert(_IDEMPOTENCY), remembered)


async def revisions_of(session: AsyncSession, declaration_id: UUID) -> list[DeclarationRevision]:
    return list(
        await session.scalars(
            sa.select(DeclarationRevision)
            .where(col(DeclarationRevision.declaration_id) == declaration_id)
            .order_by(col(DeclarationRevision.revision))
        )
    )


async def notifications_of(session: AsyncSession, declaration_id: UUID) -> list[DeclarationNotification]:
    return list(
        await session.scalars(
            sa.select(DeclarationNotification)
            .where(col(DeclarationNotification.declaration_id) == declaration_id)
            .order_by(
                col(DeclarationNotification.revision),
                col(DeclarationNotification.recipient_kind),
                col(DeclarationNotification.recipient_code),
                col(DeclarationNotification.channel),
            )
        )
    )


async def timeline_of(session: AsyncSession, declaration_id: UUID) -> list[TimelineEntry]:
    return list(
        await session.scalars(
            sa.select(TimelineEntry)
            .where(col(TimelineEntry.declaration_id) == declaration_id)
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
        )
    )


async def campaign_sizes(session: AsyncSession, ids: set[UUID]) -> dict[UUID, int]:
    """The latest size of each of these campaigns that has one."""
    if not ids:
        return {}
    rows = await session.execute(
        sa.select(col(CampaignSize.id), col(CampaignSize.declarations)).where(col(CampaignSize.id).in_(ids))
    )
    return {campaign: int(size) for campaign, size in rows.tuples()}


@dataclass(frozen=True)
class Page:
    """Which declarations a listing asks for: every condition is one the caller may ask."""

    declared_by: str | None = None
    region: str | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None
    category: str | None = None
    status: str | None = None
    finess: str | None = None
    after: tuple[datetime, UUID] | None = None  # the last (received_at, id) of the page before


async def page_of_declarations(session: AsyncSession, page: Page, limit: int) -> list[Declaration]:
    """Up to ``limit`` declarations, newest first, in a stable order (received_at, then id)."""
    where: list[Any] = []
    if page.declared_by is not None:
        where.append(col(Declaration.declared_by) == page.declared_by)
    if page.region is not None:
        where.append(col(Declaration.region_code) == page.region)
    if page.received_from is not None:
        where.append(col(Declaration.received_at) >= page.received_from)
    if page.received_before is not None:
        where.append(col(Declaration.received_at) < page.received_before)
    if page.category is not None:
        where.append(col(Declaration.category) == page.category)
    if page.status is not None:
        where.append(col(Declaration.status) == page.status)
    if page.finess is not None:
        where.append(col(Declaration.finess) == page.finess)
    if page.after is not None:
        where.append(sa.tuple_(col(Declaration.received_at), col(Declaration.id)) < sa.tuple_(*page.after))
    return list(
        await session.scalars(
            sa.select(Declaration)
            .where(*where)
            .order_by(col(Declaration.received_at).desc(), col(Declaration.id).desc())
            .limit(limit)
        )
    )


async def audit_entries(session: AsyncSession, declaration_id: UUID) -> list[AuditEntry]:
    return list(
        await session.scalars(
            sa.select(AuditEntry)
            .where(col(AuditEntry.declaration_id) == declaration_id)
            .order_by(col(AuditEntry.at), col(AuditEntry.id))
        )
    )
