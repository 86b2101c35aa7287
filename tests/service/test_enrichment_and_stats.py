"""Enrichment and stats use cases on real databases, one after the other as the topics would
chain them: two structures hit through the same provider form a campaign, the structure declaring
first learns of it, and the statistics count each declaration once however often it is told."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from vigie_contracts.declaration import ADMITTING, DeclarationContent
from vigie_contracts.events import DeclarationEnriched, DeclarationSubmitted, RevisionKind, SubmittedData
from vigie_enrichment.handlers import enrich
from vigie_kit.db import driver, sessions, unit_of_work
from vigie_stack.samples import declaration, finess_in
from vigie_stats.adapters.figures import count_declarations
from vigie_stats.domain.dimensions import Dimension
from vigie_stats.handlers import record_facts

from .conftest import Database


def _submitted(region: str, serial: int, reference: str) -> DeclarationSubmitted:
    payload = declaration(finess=finess_in(region, serial), category="provider_incident")
    payload["provider"] = {"name": "Éditeur Logiciel Dossier Patient"}
    return DeclarationSubmitted(
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        producer="declaration",
        declaration_id=uuid4(),
        data=SubmittedData(
            reference=reference,
            revision=1,
            kind=RevisionKind.initial,
            submitted_at=datetime.now(UTC),
            declaration=DeclarationContent.model_validate(payload, context=ADMITTING),
        ),
    )


async def _published(connection: asyncpg.Connection) -> list[DeclarationEnriched]:
    rows = await connection.fetch("SELECT payload FROM outbox ORDER BY id")
    return [DeclarationEnriched.model_validate_json(row["payload"]) for row in rows]


async def test_two_structures_hit_through_one_provider_form_a_campaign_counted_once(
    enrichment_db: Database, stats_db: Database
) -> None:
    engine, raw = enrichment_db
    first, second = _submitted("84", 31, "VIG-2026-000031"), _submitted("93", 32, "VIG-2026-000032")
    async with driver(engine) as connection:
        await enrich(connection, [first])
    async with driver(engine) as connection:
        await enrich(connection, [second])

    told = await _published(raw)
    latest: dict[UUID, DeclarationEnriched] = {event.declaration_id: event for event in told}
    assert {e.declaration_id for e in told} == {first.declaration_id, second.declaration_id}
    for event in latest.values():  # the first was enriched again once the second joined it
        (campaign,) = [c for c in event.data.campaigns if c.kind == "provider"]
        assert campaign.declarations == 2
    assert latest[first.declaration_id].data.region.code == "84"
    assert latest[second.declaration_id].data.ars.code.startswith("ars-")

    stats_engine, _ = stats_db
    for _ in range(2):  # told twice, as a redelivery or a republished event would
        async with driver(stats_engine) as connection:
            await record_facts(connection, told)
    async with unit_of_work(sessions(stats_engine)) as session:
        counts = await count_declarations(session, [Dimension.region], None, None)
    assert counts.total == 2
    assert {key[0]: n for key, n in counts.groups} == {"84": 1, "93": 1}
