"""The stats service's figures as the database holds them: one fact per declaration, when its
ARS was first told, and the years published; each statement behind a function named for what it
answers."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_kit.db import insert_rows
from vigie_kit.periods import FRANCE, period_bounds

from ..domain.dimensions import Dimension
from ..domain.publication import CROSSED, YearFact
from .orm import ArsNotification, DeclarationFact, PublishedYear

_FACTS = DeclarationFact.__table__  # type: ignore[attr-defined]
_TOLD = ArsNotification.__table__  # type: ignore[attr-defined]


# A later revision's values replace an earlier one's, never the other way round; the declaration
# stays declared when its first revision was.
_NEWER_FACT = "(declaration_id) DO UPDATE SET {} WHERE declaration_facts.revision <= excluded.revision".format(
    ", ".join(
        f"{c.name} = excluded.{c.name}" for c in _FACTS.columns if c.name not in ("declaration_id", "declared_at")
    )
)
_FIRST_TOLD = "(declaration_id) DO UPDATE SET notified_at = least(ars_notifications.notified_at, excluded.notified_at)"


async def keep_latest_facts(connection: asyncpg.Connection, facts: Sequence[dict[str, Any]]) -> None:
    """Each declaration's fact, unless a later revision's is kept already (one row per
    declaration: one statement cannot change a row twice)."""
    await insert_rows(connection, [(_FACTS, list(facts))], on_conflict=_NEWER_FACT)


async def keep_first_told(connection: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """When each declaration's ARS was told, unless it was known to be told earlier."""
    await insert_rows(connection, [(_TOLD, list(rows))], on_conflict=_FIRST_TOLD)


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


async def year_facts(session: AsyncSession, year: int) -> list[YearFact]:
    f = _FACTS.c
    month = sa.func.extract("month", sa.func.timezone(str(FRANCE), f.detected_at))
    columns = [_column(d) for d in CROSSED]
    rows = await session.execute(
        sa.select(
            month, f.finess, sa.func.coalesce(f.parent_incident, sa.cast(f.declaration_id, sa.Text)), *columns
        ).where(*_period(date(year, 1, 1), date(year, 12, 31)))
    )
    return [YearFact(int(row[0]), dict(zip(CROSSED, row[3:], strict=True)), row[1], row[2]) for row in rows.tuples()]


async def delays(session: AsyncSession, year: int) -> dict[str, list[float]]:
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


async def lock_publications(session: AsyncSession) -> None:
    """Until the transaction ends, no other publication is decided."""
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('vigie_stats.publish'))"))


async def publication(session: AsyncSession, year: int) -> PublishedYear | None:
    return await session.get(PublishedYear, year)


def add_publication(session: AsyncSession, published: PublishedYear) -> None:
    session.add(published)


async def published_years(session: AsyncSession) -> list[int]:
    rows = await session.execute(sa.select(col(PublishedYear.year)).order_by(col(PublishedYear.year).desc()))
    return [int(year) for year in rows.scalars()]
