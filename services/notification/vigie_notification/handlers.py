"""Use cases of the notification service: plan the deliveries of an enriched declaration, and
record what came of each attempt."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_contracts.events import (
    Channel,
    DeclarationEnriched,
    DeliveryOutcome,
    DispatchedData,
    NotificationDispatched,
    Outcome,
    Recipient,
    RecipientKind,
)
from vigie_contracts.webhook import WebhookNotification
from vigie_kit.consumer import processing
from vigie_kit.db import insert_rows
from vigie_kit.outbox import OUTBOX, OutboxRow, outbox_message
from vigie_kit.telemetry import trace_headers

from .adapters.orm import Delivery
from .domain.delivery import DeliveryStatus, delivery_id
from .domain.directory import Directory

PRODUCER = "notification"
_DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
_KNOWN = "SELECT id FROM deliveries WHERE id = ANY($1::uuid[])"


async def plan_deliveries(
    connection: asyncpg.Connection,
    events: Sequence[DeclarationEnriched],
    directory: Directory,
    *,
    email_enabled: bool,
) -> None:
    """Write one pending ledger row per recipient and channel of each event, in one statement for
    the batch; a row that exists already (a redelivered or republished event) is left as it is,
    so nobody is told twice. Each delivery continues the trace of the event that planned it.
    Both statements run in the consumer's transaction."""
    now = datetime.now(UTC)
    planned: dict[UUID, tuple[DeclarationEnriched, Recipient, Channel, str | None, dict[str, str]]] = {}
    for event in events:
        with processing(event):
            headers = trace_headers()
        for recipient, channel, address in _recipients(event, directory, email_enabled=email_enabled):
            notification_id = delivery_id(event.declaration_id, event.data.revision, recipient.code, channel)
            planned.setdefault(notification_id, (event, recipient, channel, address, headers))
    # A republished enrichment (a campaign grew) mostly finds its deliveries planned already:
    # only a recipient it adds (a severity raised to escalation) needs a row.
    known = {row[0] for row in await connection.fetch(_KNOWN, list(planned))}
    rows = []
    payloads: dict[UUID, dict[str, Any]] = {}  # the part every recipient's copy shares, by event
    for notification_id, (event, recipient, channel, address, headers) in planned.items():
        if notification_id in known:
            continue
        data = event.data
        common = payloads.get(event.event_id)
        if common is None:
            # Validated and turned into JSON once an event: the recipients' copies differ only in
            # whom they are for, and the declaration is most of each.
            common = payloads[event.event_id] = WebhookNotification(
                notification_id=notification_id,
                declaration_id=event.declaration_id,
                reference=data.reference,
                revision=data.revision,
                kind=data.kind,
                recipient=recipient,
                departement=data.departement,
                region=data.region,
                submitted_at=data.submitted_at,
                urgent=data.severity is not None and data.severity.grave,
                severity=data.severity,
                declaration=data.declaration,
            ).model_dump(mode="json")
        payload = {**common, "notification_id": str(notification_id), "recipient": recipient.model_dump(mode="json")}
        rows.append(
            {
                "id": notification_id,
                "declaration_id": event.declaration_id,
                "revision": data.revision,
                "reference": data.reference,
                "recipient_kind": recipient.kind,
                "recipient_code": recipient.code,
                "recipient_name": recipient.name,
                "channel": channel,
                "address": address,
                "status": DeliveryStatus.pending,
                "attempts": 0,
                "next_attempt_at": now,
                "payload": payload,
                "trace_headers": headers,
                "created_at": now,
                "updated_at": now,
            }
        )
    await insert_rows(connection, [(_DELIVERIES, rows)], on_conflict="DO NOTHING")


def _recipients(
    event: DeclarationEnriched, directory: Directory, *, email_enabled: bool
) -> list[tuple[Recipient, Channel, str | None]]:
    """Whom a revision is for, by which channel, and the address when it is not the directory's."""
    data = event.data
    recipients: list[tuple[Recipient, Channel, str | None]] = [
        (recipient, channel, None)
        for recipient, entry in directory.recipients_for(data.ars.code)
        for channel in entry.channels(email_enabled=email_enabled)
    ]
    if email_enabled and data.acknowledge_to is not None:
        # Only to an address the intake found in the partner's registered mail domains.
        declarant = data.declaration.declarant
        recipients.append(
            (
                Recipient(kind=RecipientKind.declarant, code="declarant", name=declarant.name),
                Channel.email,
                data.acknowledge_to,
            )
        )
    return recipients


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
_OPEN_CHANNELS = """
    WITH RECURSIVE channels (recipient_code, channel) AS (
        (
            SELECT recipient_code, channel FROM deliveries
            WHERE status IN ('pending', 'retrying')
            ORDER BY recipient_code, channel LIMIT 1
        )
        UNION ALL
        SELECT later.recipient_code, later.channel FROM channels AS c CROSS JOIN LATERAL (
            SELECT recipient_code, channel FROM deliveries
            WHERE status IN ('pending', 'retrying') AND (recipient_code, channel) > (c.recipient_code, c.channel)
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
    + """
    , due AS (
        SELECT d.id, d.next_attempt_at AS at FROM open AS o CROSS JOIN LATERAL (
            SELECT id, next_attempt_at FROM deliveries
            WHERE recipient_code = o.recipient_code AND channel = o.channel
                AND status IN ('pending', 'retrying') AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT least(o.room, $4)
            FOR UPDATE SKIP LOCKED
        ) AS d
        WHERE o.room > 0
        UNION ALL
        SELECT expired.id, expired.lease_until FROM (
            SELECT id, lease_until, recipient_code || '/' || channel AS key FROM deliveries
            WHERE status = 'sending' AND lease_until < now()
            ORDER BY lease_until LIMIT $4
            FOR UPDATE SKIP LOCKED
        ) AS expired LEFT JOIN known USING (key)
        WHERE coalesce(known.room, $3) > 0
    ), chosen AS (
        SELECT id FROM due ORDER BY at LIMIT $4
    )
    UPDATE deliveries AS d
    SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + $5::interval, updated_at = now()
    FROM chosen
    WHERE d.id = chosen.id
    RETURNING {}
""".format(", ".join(f"d.{field.name}" for field in fields(Claimed)))  # noqa: S608 - the record's own field names
)
# When the next delivery falls due on a channel with room, or the next claim runs out.
_NEXT_DUE = (
    _OPEN_CHANNELS  # noqa: S608 - constant SQL
    + """
    SELECT extract(epoch FROM least(
        (
            SELECT min(oldest.next_attempt_at) FROM open AS o CROSS JOIN LATERAL (
                SELECT next_attempt_at FROM deliveries
                WHERE recipient_code = o.recipient_code AND channel = o.channel AND status IN ('pending', 'retrying')
                ORDER BY next_attempt_at LIMIT 1
            ) AS oldest
            WHERE o.room > 0
        ),
        (SELECT min(lease_until) FROM deliveries WHERE status = 'sending')
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


@dataclass(frozen=True)
class Attempt:
    """What came of one attempt at a delivery, and the trace it ran in."""

    delivery: Claimed
    outcome: DeliveryOutcome
    next_attempt_at: datetime | None
    trace: dict[str, str]


def attempt_outcome(
    delivery: Claimed, *, delivered: bool, error: str | None, give_up: bool, retry_in: timedelta
) -> Attempt:
    """The outcome of an attempt: sent, failed for good, or to retry in ``retry_in``. Made where
    the attempt ran, so that the ``notification.dispatched`` event telling it continues that trace."""
    now = datetime.now(UTC)
    if delivered:
        outcome, error = Outcome.sent, None
    else:
        outcome = Outcome.failed if give_up else Outcome.retrying
    told = DeliveryOutcome(
        delivery_id=delivery.id,
        recipient=Recipient(
            kind=RecipientKind(delivery.recipient_kind),
            code=delivery.recipient_code,
            name=delivery.recipient_name,
        ),
        channel=Channel(delivery.channel),
        outcome=outcome,
        attempt=delivery.attempts,
        at=now,
        error=error,
    )
    retry_at = now + retry_in if outcome is Outcome.retrying else None
    return Attempt(delivery, told, retry_at, trace_headers())


def dispatched_events(attempts: Sequence[Attempt]) -> list[OutboxRow]:
    """One ``notification.dispatched`` event per declaration revision among ``attempts``, telling
    each of its outcomes, in the trace of its first attempt (every delivery of a revision is in
    the revision's trace)."""
    revisions: dict[tuple[UUID, int], list[Attempt]] = {}
    for attempt in attempts:
        revisions.setdefault((attempt.delivery.declaration_id, attempt.delivery.revision), []).append(attempt)
    now = datetime.now(UTC)
    return [
        outbox_message(
            NotificationDispatched(
                event_id=uuid4(),
                occurred_at=now,
                producer=PRODUCER,
                declaration_id=declaration_id,
                data=DispatchedData(
                    reference=told[0].delivery.reference,
                    revision=revision,
                    deliveries=[attempt.outcome for attempt in told],
                ),
            ),
            trace=told[0].trace,
        )
        for (declaration_id, revision), told in revisions.items()
    ]


# Ledger status of each outcome.
_STATUS = {
    Outcome.sent: DeliveryStatus.sent,
    Outcome.failed: DeliveryStatus.failed,
    Outcome.retrying: DeliveryStatus.retrying,
}


_RECORD = """
    UPDATE deliveries AS d SET
        status = v.status,
        last_error = v.error,
        lease_until = NULL,
        updated_at = v.at,
        sent_at = CASE WHEN v.status = 'sent' THEN v.at ELSE d.sent_at END,
        next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at)
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
        AS v(id, attempts, status, error, at, next_attempt_at)
    WHERE d.id = v.id AND d.attempts = v.attempts AND d.status = 'sending'
    RETURNING d.id
"""


async def record_attempts(connection: asyncpg.Connection, attempts: Sequence[Attempt]) -> list[bool]:
    """Write what came of attempts, in one statement, and their events in another, in the
    transaction of the driver's ``connection``. Returns whether each was recorded: a delivery
    another worker took over meanwhile (its lease ran out, so it is no longer at this attempt)
    is left to that worker, whose outcome is the one kept."""
    if not attempts:
        return []
    rows = await connection.fetch(
        _RECORD,
        [a.delivery.id for a in attempts],
        [a.delivery.attempts for a in attempts],
        [_STATUS[a.outcome.outcome].value for a in attempts],
        [a.outcome.error for a in attempts],
        [a.outcome.at for a in attempts],
        [a.next_attempt_at for a in attempts],
    )
    recorded = {row[0] for row in rows}
    await insert_rows(connection, [(OUTBOX, dispatched_events([a for a in attempts if a.delivery.id in recorded]))])
    return [a.delivery.id in recorded for a in attempts]


async def failed_deliveries(session: AsyncSession, *, limit: int = 100) -> list[Delivery]:
    return list(
        await session.scalars(
            sa.select(Delivery)
            .where(col(Delivery.status) == DeliveryStatus.failed)
            .order_by(col(Delivery.updated_at).desc())
            .limit(limit)
        )
    )


async def replay_deliveries(session: AsyncSession, ids: Iterable[UUID] | None) -> list[UUID]:
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
