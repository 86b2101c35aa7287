"""Use cases of the notification service: plan the deliveries of an enriched declaration, and
record what came of each attempt."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

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

from .adapters import ledger
from .adapters.ledger import Claimed
from .adapters.orm import Delivery
from .domain.delivery import DeliveryStatus, delivery_id
from .domain.directory import Directory

PRODUCER = "notification"


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
    already = await ledger.known(connection, list(planned))
    rows = []
    payloads: dict[UUID, dict[str, Any]] = {}  # the part every recipient's copy shares, by event
    for notification_id, (event, recipient, channel, address, headers) in planned.items():
        if notification_id in already:
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
    await ledger.add(connection, rows)


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


async def record_attempts(connection: asyncpg.Connection, attempts: Sequence[Attempt]) -> list[bool]:
    """Write what came of attempts, in one statement, and their events in another, in the
    transaction of the driver's ``connection``. Returns whether each was recorded: a delivery
    another worker took over meanwhile (its lease ran out, so it is no longer at this attempt)
    is left to that worker, whose outcome is the one kept."""
    if not attempts:
        return []
    recorded = await ledger.record(
        connection,
        [a.delivery.id for a in attempts],
        [a.delivery.attempts for a in attempts],
        [_STATUS[a.outcome.outcome] for a in attempts],
        [a.outcome.error for a in attempts],
        [a.outcome.at for a in attempts],
        [a.next_attempt_at for a in attempts],
    )
    await insert_rows(connection, [(OUTBOX, dispatched_events([a for a in attempts if a.delivery.id in recorded]))])
    return [a.delivery.id in recorded for a in attempts]


async def failed_deliveries(session: AsyncSession, *, limit: int = 100) -> list[Delivery]:
    """The dead-lettered deliveries, the latest first: what an operator looks at before a replay."""
    return await ledger.failed(session, limit=limit)


async def replay_deliveries(session: AsyncSession, ids: Iterable[UUID] | None) -> list[UUID]:
    """Give dead-lettered deliveries (these, or all of them) a new series of attempts."""
    return await ledger.replay_failed(session, ids)
