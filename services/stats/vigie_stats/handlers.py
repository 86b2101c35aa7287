"""Use cases of the stats service: keep one fact per declaration and when its ARS was told,
answer the observatory's questions from them (exact, within the viewer's region when it has
one), and publish a year's figures."""

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched, Outcome, RecipientKind
from vigie_kit.periods import FRANCE

from .adapters import figures
from .adapters.orm import PublishedYear
from .domain.dimensions import NOT_STATED, regime_of, severity_grade
from .domain.publication import Publication, decode, delivery_figures, encode, publish


def _fact(event: DeclarationEnriched) -> dict[str, Any]:
    data = event.data
    content = data.declaration
    severity = data.severity
    return {
        "declaration_id": event.declaration_id,
        "revision": data.revision,
        "reference": data.reference,
        "finess": content.structure.finess,
        "declared_at": data.submitted_at,
        "detected_at": content.detected_at,
        "region_code": data.region.code,
        "departement_code": data.departement.code,
        "structure_type": content.structure.type,
        "category": content.category,
        "origin": content.origin,
        "essential_operator": content.structure.essential_operator,
        "degraded_mode": content.impacts.degraded_mode,
        "patient_safety": content.impacts.patient_safety,
        "support_requested": content.support_requested,
        "severity": severity_grade(severity.grave, severity.significatif) if severity else "none",
        "parent_incident": str(data.parent_incident.id) if data.parent_incident else None,
        "legal_status": content.structure.legal_status or NOT_STATED,
        "regime": regime_of(content.structure),
        "data_unavailable": content.impacts.data_unavailable,
        "data_integrity": content.impacts.data_integrity,
        "data_disclosure": content.impacts.data_disclosure,
        "care_interrupted": content.impacts.care_interrupted,
        "territorial_extent": content.impacts.territorial_extent or NOT_STATED,
    }


async def record_facts(connection: asyncpg.Connection, events: Sequence[DeclarationEnriched]) -> None:
    """Count each declaration once, with the values of its latest revision: a revision that
    changes the category moves the count rather than adding one."""
    latest: dict[UUID, dict[str, Any]] = {}  # one row per declaration: one statement cannot change a row twice
    for event in events:
        known = latest.get(event.declaration_id)
        if known is None or known["revision"] <= event.data.revision:
            fact = _fact(event)
            if known is not None:  # declared when its first revision was, as the upsert keeps it
                fact["declared_at"] = min(known["declared_at"], fact["declared_at"])
            latest[event.declaration_id] = fact
    await figures.keep_latest_facts(connection, list(latest.values()))


async def record_deliveries(connection: asyncpg.Connection, events: Sequence[NotificationDispatched]) -> None:
    """The first time the region's ARS was told of each declaration, whatever the channel."""
    first: dict[UUID, datetime] = {}
    for event in events:
        if event.data.revision != 1:
            continue
        for told in event.data.deliveries:
            if told.recipient.kind is RecipientKind.ars and told.outcome is Outcome.sent:
                first[event.declaration_id] = min(told.at, first.get(event.declaration_id, told.at))
    rows = [{"declaration_id": d, "notified_at": at} for d, at in first.items()]
    await figures.keep_first_told(connection, rows)


def year_span(year: int, today: date) -> tuple[date, date]:
    """The year so far (to the same day, for the current year) — the span a year is compared on."""
    end = date(year, 12, 31) if year < today.year else today.replace(year=year)
    return date(year, 1, 1), end


def same_span_a_year_before(start: date, end: date) -> tuple[date, date]:
    def back(day: date) -> date:
        return (
            day.replace(year=day.year - 1, day=28)
            if (day.month, day.day) == (2, 29)
            else day.replace(year=day.year - 1)
        )

    return back(start), back(end)


def today_in_france() -> date:
    return datetime.now(FRANCE).date()


class AlreadyPublished(Exception):
    pass


class NotEnded(Exception):
    pass


async def publish_year(session: AsyncSession, year: int, by: str, now: datetime) -> PublishedYear:
    """Decide and keep the year's published figures, once the year has ended; a year is
    published once (its figures stay as they were published)."""
    if year >= now.astimezone(FRANCE).year:
        raise NotEnded(f"{year} has not ended: a year's figures are published once it has")
    # One publication at a time, and none twice.
    await figures.lock_publications(session)
    if await figures.publication(session, year) is not None:
        raise AlreadyPublished(f"the figures of {year} are published already; they do not change")
    facts = await figures.year_facts(session, year)
    # Suppression is pure CPU for a moment: off the event loop, which keeps serving meanwhile.
    publication = await asyncio.to_thread(publish, year, facts)
    published = PublishedYear(
        year=year,
        figures={encode(figure): shown for figure, shown in publication.figures.items()},
        delivery=delivery_figures(publication, await figures.delays(session, year)),
        declarations=len(facts),
        published_at=now,
        published_by=by,
    )
    figures.add_publication(session, published)
    return published


async def published(session: AsyncSession, year: int) -> Publication | None:
    found = await figures.publication(session, year)
    if found is None:
        return None
    kept = {decode(text): shown for text, shown in found.figures.items()}
    return Publication(year, kept, dict(found.delivery))
