"""Use cases of the enrichment service."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.events import DeclarationEnriched, DeclarationSubmitted, EnrichedData, Place
from vigie_kit.outbox import add_events

from .domain.territory import locate
from .orm import Enrichment

PRODUCER = "enrichment"


def enriched_event(event: DeclarationSubmitted, *, now: datetime) -> DeclarationEnriched:
    """The enriched twin of a submitted declaration revision (pure: no I/O)."""
    location = locate(event.data.declaration.structure.finess)
    region = location.region
    return DeclarationEnriched(
        event_id=uuid4(),
        occurred_at=now,
        producer=PRODUCER,
        declaration_id=event.declaration_id,
        data=EnrichedData(
            **event.data.model_dump(exclude={"declaration"}),
            declaration=event.data.declaration,
            departement=Place(code=location.departement.code, name=location.departement.name),
            region=Place(code=region.code, name=region.name),
            ars=Place(code=region.ars_code, name=region.ars_name),
            enriched_at=now,
        ),
    )


async def enrich(session: AsyncSession, event: DeclarationSubmitted) -> None:
    enriched = enriched_event(event, now=datetime.now(UTC))
    data = enriched.data
    session.add(
        Enrichment(
            declaration_id=event.declaration_id,
            revision=data.revision,
            reference=data.reference,
            finess=data.declaration.structure.finess,
            departement_code=data.departement.code,
            region_code=data.region.code,
            result=data.model_dump(mode="json", include={"departement", "region", "ars"}),
            enriched_at=data.enriched_at,
        )
    )
    add_events(session, [enriched])
