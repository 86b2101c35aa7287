"""The delivery ledger's statements: what the use cases and the delivery worker read and
write, each behind a function named for what it does. Status values come from
``DeliveryStatus``; the claim and the record are single statements on the driver's connection,
where the worker's loop spends its time."""

# The statements are put together from this module's constants only (the statuses, the claimed
# record's field names); every value from outside is a bound parameter.
# ruff: noqa: S608

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_kit.db import insert_rows

from ..domain.delivery import DeliveryStatus
from .orm import Delivery

_DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
_WAITING = f"('{DeliveryStatus.pending}', '{DeliveryStatus.retrying}')"
_SENDING = DeliveryStatus.sending.value
_SENT = DeliveryStatus.sent.value


async def known(connection: asyncpg.Connection, ids: Sequence[UUID]) -> set[UUID]:
    """Which of ``ids`` the ledger holds already."""
    rows = await connection.fetch("SELECT id FROM deliveries WHERE id = ANY($1::uuid[])", list(ids))
    return {row[0] for row in rows}


async def add(connection: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """New deliveries; one whose id the ledger holds already is left as it is."""
    await insert_rows(connection, [(_DELIVERIES, rows)], on_conflict="DO NOTHING")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for an attempt: what sending it takes, as the ledger holds it. A plain
    record, not the ORM's ``Delivery``: building those cost as much CPU as the claim itself."""

    id: UUID
    declaration_id: UUID
    revision: int
    reference: str
    recipient_kind: str
    recipient_code: str
    recipient_name: str
    channel: str
    address: str | None
    attempts: int  # this one included
    payload: dict[str, Any]
    trace_headers: dict[str, str]


# The channels (``"<recipient>/<channel>"``) with deliveries waiting, found by skipping through the
# index from one channel to the next, and the room each has: ``$1`` and ``$2`` name the channels
# whose room is known (none for a resting channel), ``$3`` is the room of any other.
_OPEN_CHANNELS = f"""
    WITH RECURSIVE channels (recipient_code, channel) AS (
        (
            SELECT recipient_code, channel FROM deliveries
            WHERE status IN {_WAITING}
            ORDER BY recipient_code, channel LIMIT 1
        )
        UNION ALL
        SELECT later.recipient_code, later.channel FROM channels AS c CROSS JOIN LATERAL (
            SELECT recipient_code, channel FROM deliveries
            WHERE status IN {_WAITING} AND (recipient_code, channel) > (c.recipient_code, c.channel)
            ORDER BY recipient_code, channel LIMIT 1
        ) AS later
    ), known AS (
        SELECT * FROM unnest($1::text[], $2::int[]) AS known (key, room)
    ), open AS (
        SELECT c.recipient_code, c.channel, coalesce(known.room, $3) AS room
        FROM channels AS c LEFT JOIN known ON known.key = c.recipient_code || '/' || c.channel
    )
"""
# Each open channel's oldest due deliveries, as many as it has room for, and the claims whose
# lease ran out (their worker died) on a channel that is not full: ``$4`` of them at most,
# oldest first, marked as being sent. A claim reads what it takes, whatever waits elsewhere.
_CLAIM = (
    _OPEN_CHANNELS
    + f"""
    , due AS (
        SELECT d.id, d.next_attempt_at AS at FROM open AS o CROSS JOIN LATERAL (
            SELECT id, next_attempt_at FROM deliveries
            WHERE recipient_code = o.recipient_code AND channel = o.channel
                AND status IN {_WAITING} AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT least(o.room, $4)
            FOR UPDATE SKIP LOCKED
        ) AS d
        WHERE o.room > 0
        UNION ALL
        SELECT expired.id, expired.lease_until FROM (
            SELECT id, lease_until, recipient_code || '/' || channel AS key FROM deliveries
            WHERE status = '{_SENDING}' AND lease_until < now()
            ORDER BY lease_until LIMIT $4
            FOR UPDATE SKIP LOCKED
        ) AS expired LEFT JOIN known USING (key)
        WHERE coalesce(known.room, $3) > 0
    ), chosen AS (
        SELECT id FROM due ORDER BY at LIMIT $4
    )
    UPDATE deliveries AS d
    SET status = '{_SENDING}', attempts = d.attempts + 1, lease_until = now() + $5::interval, updated_at = now()
    FROM chosen
    WHERE d.id = chosen.id
    RETURNING {", ".join(f"d.{field.name}" for field in fields(Claimed))}
"""
)
# When the next delivery falls due on a channel with room, or the next claim runs out.
_NEXT_DUE = (
    _OPEN_CHANNELS
    + f"""
    SELECT extract(epoch FROM least(
        (
            SELECT min(oldest.next_attempt_at) FROM open AS o CROSS JOIN LATERAL (
                SELECT next_attempt_at FROM deliveries
                WHERE recipient_code = o.recipient_code AND channel = o.channel AND status IN {_WAITING}
                ORDER BY next_attempt_at LIMIT 1
            ) AS oldest
            WHERE o.room > 0
        ),
        (SELECT min(lease_until) FROM deliveries WHERE status = '{_SENDING}')
    ) - now())::float8
"""
)


async def claim_due(
    connection: asyncpg.Connection,
    *,
    limit: int,
    lease: timedelta,
    room: Mapping[str, int],
    room_elsewhere: int,
) -> list[Claimed]:
    """Mark due deliveries as being sent, before sending: the ledger always knows an attempt
    may have reached the receiver. A claim whose lease ran out (its worker died) is due again.
    No channel (``"<recipient>/<channel>"``) gets more than its ``room`` (``room_elsewhere`` for
    a channel not named there): a resting channel, with none, waits its turn untouched.

    One statement on the driver's connection: committed on its own, with no transaction
    around it (it is all or nothing as it is)."""
    keys, rooms = list(room), list(room.values())
    rows = await connection.fetch(_CLAIM, keys, rooms, room_elsewhere, limit, lease)
    return [Claimed(**row) for row in rows]


async def next_due_in(connection: asyncpg.Connection, *, room: Mapping[str, int], room_elsewhere: int) -> float | None:
    """Seconds until the next delivery falls due on a channel with room, or the next claim runs
    out; None when nothing is waiting there."""
    seconds = await connection.fetchval(_NEXT_DUE, list(room), list(room.values()), room_elsewhere)
    return None if seconds is None else max(float(seconds), 0.0)


async def waiting(session: AsyncSession) -> dict[DeliveryStatus, int]:
    """How many deliveries wait, by status (sent ones excluded)."""
    rows = await session.execute(
        sa.select(col(Delivery.status), sa.func.count())
        .where(col(Delivery.status).in_([s for s in DeliveryStatus if s is not DeliveryStatus.sent]))
        .group_by(col(Delivery.status))
    )
    counts = dict.fromkeys(DeliveryStatus, 0)
    counts.update({DeliveryStatus(status): count for status, count in rows.tuples()})
    return counts


_RECORD = f"""
    UPDATE deliveries AS d SET
        status = v.status,
        last_error = v.error,
        lease_until = NULL,
        updated_at = v.at,
        sent_at = CASE WHEN v.status = '{_SENT}' THEN v.at ELSE d.sent_at END,
        next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at)
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
        AS v(id, attempts, status, error, at, next_attempt_at)
    WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = '{_SENDING}'
    RETURNING d.id
"""


async def record(
    connection: asyncpg.Connection,
    ids: Sequence[UUID],
    attempts: Sequence[int],
    statuses: Sequence[DeliveryStatus],
    errors: Sequence[str | None],
    at: Sequence[datetime],
    next_attempt_at: Sequence[datetime | None],
) -> set[UUID]:
    """Write what came of attempts, in one statement; returns the ids recorded. A delivery
    another worker took over meanwhile (its lease ran out, so it is no longer at this attempt)
    is left to that worker."""
    rows = await connection.fetch(
        _RECORD, list(ids), list(attempts), [s.value for s in statuses], list(errors), list(at), list(next_attempt_at)
    )
    return {row[0] for row in rows}


async def failed(session: AsyncSession, *, limit: int = 100) -> list[Delivery]:
    return list(
        await session.scalars(
            sa.select(Delivery)
            .where(col(Delivery.status) == DeliveryStatus.failed)
            .order_by(col(Delivery.updated_at).desc())
            .limit(limit)
        )
    )


async def replay_failed(session: AsyncSession, ids: Iterable[UUID] | None) -> list[UUID]:
    """Give dead-lettered deliveries (these, or all of them) a new series of attempts."""
    where = [col(Delivery.status) == DeliveryStatus.failed]
    if ids is not None:
        where.append(col(Delivery.id).in_(list(ids)))
    replayed = await session.scalars(
        sa.update(Delivery)
        .where(*where)
        .values(
            status=DeliveryStatus.pending,
            attempts=0,
            replays=col(Delivery.replays) + 1,
            next_attempt_at=sa.func.now(),
            updated_at=sa.func.now(),
        )
        .returning(col(Delivery.id))
    )
    return list(replayed)
