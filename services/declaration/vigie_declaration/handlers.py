"""Use cases of the declaration service. Each runs inside one unit of work (a session in a
transaction) given by its caller: an HTTP route or an event subscription."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import (
    DeclarationEnriched,
    DeclarationSubmitted,
    NotificationDispatched,
    Outcome,
    RecipientKind,
    RevisionKind,
    SubmittedData,
)
from vigie_kit.outbox import add_events

from .adapters.orm import Declaration, DeclarationNotification
from .domain.declaration import DeclarationStatus, reference, status_of

PRODUCER = "declaration"


class UnknownDeclaration(LookupError):
    pass


async def submit_declaration(
    session: AsyncSession, content: DeclarationContent, *, now: datetime | None = None
) -> Declaration:
    """Store a new declaration and its ``declaration.submitted`` event in the same transaction."""
    now = now or datetime.now(UTC)
    serial = await session.scalar(sa.text("SELECT nextval('declaration_reference_seq')"))
    declaration = Declaration(
        id=uuid4(),
        reference=reference(now.year, int(serial or 0)),
        revision=1,
        finess=content.structure.finess,
        content=content.model_dump(mode="json"),
        status=DeclarationStatus.received,
        received_at=now,
        updated_at=now,
    )
    session.add(declaration)
    add_events(
        session,
        [
            DeclarationSubmitted(
                event_id=uuid4(),
                occurred_at=now,
                producer=PRODUCER,
                declaration_id=declaration.id,
                data=SubmittedData(
                    reference=declaration.reference,
                    revision=1,
                    kind=RevisionKind.initial,
                    submitted_at=now,
                    declaration=content,
                ),
            )
        ],
    )
    return declaration


async def _locked(session: AsyncSession, declaration_id: UUID) -> Declaration:
    # Enrichment and delivery events are applied by two consumers at once; the row lock makes
    # each status decision see the other's committed facts.
    declaration = await session.get(Declaration, declaration_id, with_for_update=True)
    if declaration is None:
        raise UnknownDeclaration(f"no declaration {declaration_id}")
    return declaration


async def _refresh_status(session: AsyncSession, declaration: Declaration, now: datetime) -> None:
    rows = await session.execute(
        sa.select(
            col(DeclarationNotification.recipient_kind),
            col(DeclarationNotification.recipient_code),
            col(DeclarationNotification.outcome),
        ).where(
            col(DeclarationNotification.declaration_id) == declaration.id,
            col(DeclarationNotification.revision) == declaration.revision,
        )
    )
    status = status_of(
        enriched=declaration.enriched_revision == declaration.revision,
        ars_code=(declaration.ars or {}).get("code"),
        deliveries=[(RecipientKind(kind), code, Outcome(outcome)) for kind, code, outcome in rows],
    )
    if status != declaration.status:
        declaration.status = status
        declaration.updated_at = now


async def record_enrichment(session: AsyncSession, event: DeclarationEnriched) -> None:
    declaration = await _locked(session, event.declaration_id)
    data = event.data
    if declaration.enriched_revision is not None and data.revision < declaration.enriched_revision:
        return  # an older revision's enrichment arriving late changes nothing
    declaration.enriched_revision = data.revision
    declaration.departement = data.departement.model_dump()
    declaration.region = data.region.model_dump()
    declaration.ars = data.ars.model_dump()
    await _refresh_status(session, declaration, event.occurred_at)


async def record_dispatch(session: AsyncSession, event: NotificationDispatched) -> None:
    declaration = await _locked(session, event.declaration_id)
    data = event.data
    row = {
        "delivery_id": data.delivery_id,
        "declaration_id": event.declaration_id,
        "revision": data.revision,
        "recipient_kind": data.recipient.kind,
        "recipient_code": data.recipient.code,
        "recipient_name": data.recipient.name,
        "channel": data.channel,
        "outcome": data.outcome,
        "attempt": data.attempt,
        "at": data.at,
        "error": data.error,
    }
    table = DeclarationNotification.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(row)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.delivery_id],
            set_={key: statement.excluded[key] for key in ("outcome", "attempt", "at", "error")},
            # Outcomes of one delivery arrive in order, but a replay must not rewind them.
            where=table.c.attempt <= statement.excluded.attempt,
        )
    )
    await _refresh_status(session, declaration, event.occurred_at)


async def find_declaration(
    session: AsyncSession, declaration_id: UUID
) -> tuple[Declaration, list[DeclarationNotification]] | None:
    declaration = await session.get(Declaration, declaration_id)
    if declaration is None:
        return None
    notifications = await session.scalars(
        sa.select(DeclarationNotification)
        .where(col(DeclarationNotification.declaration_id) == declaration_id)
        .order_by(
            col(DeclarationNotification.revision),
            col(DeclarationNotification.recipient_kind),
            col(DeclarationNotification.recipient_code),
            col(DeclarationNotification.channel),
        )
    )
    return declaration, list(notifications)
