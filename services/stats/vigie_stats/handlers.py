"""Use cases of the stats service: keep one fact per declaration and when its ARS was told,
answer the observatory's questions from them (exact, within the viewer's region when it has
one), and publish a year's figures."""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched, Outcome, RecipientKind
from vigie_kit.db import insert_rows
from vigie_kit.periods import FRANCE, period_bounds

from .adapters.orm import ArsNotification, DeclarationFact, PublishedYear
from .domain.dimensions import NOT_STATED, Dimension, regime_of, severity_grade
from .domain.publication import CROSSED, Publication, YearFact, decode, delivery_figures, encode, publish

_FACTS = DeclarationFact.__table__  # type: ignore[attr-defined]
_TOLD = ArsNotification.__table__  # type: ignore[attr-defined]


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


# A later revision's values replace an earlier one's, never the other way round; the declaration
# stays declared when its first revision was.
_NEWER_FACT = "(declaration_id) DO UPDATE SET {} WHERE declaration_facts.revision <= excluded.revision".format(
    ", ".join(
        f"{c.name} = excluded.{c.name}" for c in _FACTS.columns if c.name not in ("declaration_id", "declared_at")
    )
)
_FIRST_TOLD = "(declaration_id) DO UPDATE SET notified_at = least(ars_notifications.notified_at, excluded.notified_at)"


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
    await insert_rows(connection, [(_FACTS, list(latest.values()))], on_conflict=_NEWER_FACT)


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
    await insert_rows(connection, [(_TOLD, rows)], on_conflict=_FIRST_TOLD)


def _column(dimension: Dimension) -> Any:
    if dimension is Dimension.month:
        return sa.func.to_char(sa.func.timezone(str(FRANCE), _FACTS.c.detected_at), "YYYY-MM")
    if dimension is Dimension.region:
        return _FACTS.c.region_code
    return _FACTS.c[dimension.value]


def _period(start: date | None, end: date | None, region: str | None = None) -> list[Any]:
    """The facts detected from ``start`` to ``end`` (inclusive days), in ``region`` if given."""
    lower, upper = period_bounds(start, end)
    where = []
    if lower is not None:
        where.append(_FACTS.c.detected_at >= lower)
    if upper is not None:
        where.append(_FACTS.c.detected_at < upper)
    if region is not None:
        where.append(_FACTS.c.region_code == region)
    return where


@dataclass(frozen=True)
class Counts:
    total: int
    groups: list[tuple[tuple[Any, ...], int]]


async def count_declarations(
    session: AsyncSession,
    dimensions: list[Dimension],
    start: date | None,
    end: date | None,
    region: str | None = None,
) -> Counts:
    columns = [_column(d).label(d.value) for d in dimensions]
    rows = await session.execute(
        sa.select(*columns, sa.func.count().label("count"))
        .where(*_period(start, end, region))
        .group_by(*columns)
        .order_by(*columns)
    )
    groups = [(tuple(row[: len(dimensions)]), int(row[-1])) for row in rows]
    return Counts(total=sum(count for _, count in groups), groups=groups)


@dataclass(frozen=True)
class Structures:
    """How many structures declared, and how many declared 1, 2, 3, 4, 5 or more times."""

    per_structure: dict[str, int]

    @property
    def structures(self) -> int:
        return sum(self.per_structure.values())

    @property
    def more_than_2(self) -> int:
        return self.per_structure["3"] + self.per_structure["4"] + self.per_structure["5+"]

    @property
    def more_than_4(self) -> int:
        return self.per_structure["5+"]


async def count_structures(
    session: AsyncSession, start: date | None, end: date | None, region: str | None = None
) -> Structures:
    per_structure = (
        sa.select(_FACTS.c.finess, sa.func.least(sa.func.count(), 5).label("n"))
        .where(*_period(start, end, region))
        .group_by(_FACTS.c.finess)
        .subquery()
    )
    rows = await session.execute(sa.select(per_structure.c.n, sa.func.count()).group_by(per_structure.c.n))
    found = {int(times): int(structures) for times, structures in rows.tuples()}
    return Structures({label: found.get(times, 0) for times, label in enumerate(("1", "2", "3", "4", "5+"), 1)})


@dataclass(frozen=True)
class Headline:
    declarations: int
    incidents: int  # declarations at one shared provider count once
    malicious: int
    degraded_mode: int
    patients_endangered: int
    support_requested: int


async def headline(session: AsyncSession, start: date | None, end: date | None, region: str | None = None) -> Headline:
    f = _FACTS.c
    row = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(sa.func.coalesce(f.parent_incident, sa.cast(f.declaration_id, sa.Text)))),
                sa.func.count().filter(f.origin == "malicious"),
                sa.func.count().filter(f.degraded_mode),
                sa.func.count().filter(f.patient_safety != "none"),
                sa.func.count().filter(f.support_requested),
            ).where(*_period(start, end, region))
        )
    ).one()
    return Headline(*[int(value) for value in row])


@dataclass(frozen=True)
class DeliveryTimes:
    region: str
    count: int
    median_seconds: float
    p90_seconds: float
    p99_seconds: float


async def delivery_times(
    session: AsyncSession, start: date | None, end: date | None, region: str | None = None
) -> list[DeliveryTimes]:
    delay = sa.func.extract("epoch", _TOLD.c.notified_at - _FACTS.c.declared_at)
    rows = await session.execute(
        sa.select(
            _FACTS.c.region_code,
            sa.func.count(),
            sa.func.percentile_cont(0.5).within_group(delay),
            sa.func.percentile_cont(0.9).within_group(delay),
            sa.func.percentile_cont(0.99).within_group(delay),
        )
        .select_from(_FACTS.join(_TOLD, _TOLD.c.declaration_id == _FACTS.c.declaration_id))
        .where(*_period(start, end, region))
        .group_by(_FACTS.c.region_code)
        .order_by(_FACTS.c.region_code)
    )
    return [DeliveryTimes(r[0], int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]


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


async def _year_facts(session: AsyncSession, year: int) -> list[YearFact]:
    f = _FACTS.c
    month = sa.func.extract("month", sa.func.timezone(str(FRANCE), f.detected_at))
    columns = [_column(d) for d in CROSSED]
    rows = await session.execute(
        sa.select(
            month, f.finess, sa.func.coalesce(f.parent_incident, sa.cast(f.declaration_id, sa.Text)), *columns
        ).where(*_period(date(year, 1, 1), date(year, 12, 31)))
    )
    return [YearFact(int(row[0]), dict(zip(CROSSED, row[3:], strict=True)), row[1], row[2]) for row in rows.tuples()]


async def _delays(session: AsyncSession, year: int) -> dict[str, list[float]]:
    delay = sa.func.extract("epoch", _TOLD.c.notified_at - _FACTS.c.declared_at)
    rows = await session.execute(
        sa.select(_FACTS.c.region_code, delay)
        .select_from(_FACTS.join(_TOLD, _TOLD.c.declaration_id == _FACTS.c.declaration_id))
        .where(*_period(date(year, 1, 1), date(year, 12, 31)))
    )
    delays: dict[str, list[float]] = defaultdict(list)
    for region, seconds in rows.tuples():
        delays[region].append(float(seconds))
    return delays


async def publish_year(session: AsyncSession, year: int, by: str, now: datetime) -> PublishedYear:
    """Decide and keep the year's published figures, once the year has ended; a year is
    published once (its figures stay as they were published)."""
    if year >= now.astimezone(FRANCE).year:
        raise NotEnded(f"{year} has not ended: a year's figures are published once it has")
    # One publication at a time, and none twice.
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('vigie_stats.publish'))"))
    if await session.get(PublishedYear, year) is not None:
        raise AlreadyPublished(f"the figures of {year} are published already; they do not change")
    facts = await _year_facts(session, year)
    # Suppression is pure CPU for a moment: off the event loop, which keeps serving meanwhile.
    publication = await asyncio.to_thread(publish, year, facts)
    published = PublishedYear(
        year=year,
        figures={encode(figure): shown for figure, shown in publication.figures.items()},
        delivery=delivery_figures(publication, await _delays(session, year)),
        declarations=len(facts),
        published_at=now,
        published_by=by,
    )
    session.add(published)
    return published


async def published(session: AsyncSession, year: int) -> Publication | None:
    found = await session.get(PublishedYear, year)
    if found is None:
        return None
    figures = {decode(text): shown for text, shown in found.figures.items()}
    return Publication(year, figures, dict(found.delivery))


async def published_years(session: AsyncSession) -> list[int]:
    rows = await session.execute(sa.select(col(PublishedYear.year)).order_by(col(PublishedYear.year).desc()))
    return [int(year) for year in rows.scalars()]
