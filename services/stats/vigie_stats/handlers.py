"""Use cases of the stats service: keep one fact per declaration, and count them."""

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.periods import period_bounds

from .domain.dimensions import OBSERVATORY_TZ, Dimension
from .orm import DeclarationFact

_FACTS = DeclarationFact.__table__  # type: ignore[attr-defined]


async def record_fact(session: AsyncSession, event: DeclarationEnriched) -> None:
    """Count a declaration once, with the values of its latest revision: a revision that
    changes the category moves the count rather than adding one."""
    data = event.data
    content = data.declaration
    row = {
        "declaration_id": event.declaration_id,
        "revision": data.revision,
        "reference": data.reference,
        "finess": content.structure.finess,
        "declared_at": data.submitted_at,
        "region_code": data.region.code,
        "departement_code": data.departement.code,
        "structure_type": content.structure.type,
        "category": content.category,
        "origin": content.origin,
        "essential_operator": content.structure.essential_operator,
        "degraded_mode": content.impacts.degraded_mode,
        "patient_safety": content.impacts.patient_safety,
        "support_requested": content.support_requested,
    }
    statement = insert(_FACTS).values(row)
    updated = {key: statement.excluded[key] for key in row if key not in ("declaration_id", "declared_at")}
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[_FACTS.c.declaration_id],
            set_=updated,
            where=_FACTS.c.revision <= statement.excluded.revision,
        )
    )


def _column(dimension: Dimension) -> Any:
    if dimension is Dimension.month:
        local = sa.func.timezone(str(OBSERVATORY_TZ), _FACTS.c.declared_at)
        return sa.func.to_char(local, "YYYY-MM")
    if dimension is Dimension.region:
        return _FACTS.c.region_code
    return _FACTS.c[dimension.value]


@dataclass(frozen=True)
class Counts:
    total: int
    groups: list[tuple[tuple[Any, ...], int]]


async def count_declarations(
    session: AsyncSession, dimensions: list[Dimension], start: date | None, end: date | None
) -> Counts:
    lower, upper = period_bounds(start, end)
    where = []
    if lower is not None:
        where.append(_FACTS.c.declared_at >= lower)
    if upper is not None:
        where.append(_FACTS.c.declared_at < upper)
    columns = [_column(d).label(d.value) for d in dimensions]
    rows = await session.execute(
        sa.select(*columns, sa.func.count().label("count")).where(*where).group_by(*columns).order_by(*columns)
    )
    groups = [(tuple(row[: len(dimensions)]), int(row[-1])) for row in rows]
    return Counts(total=sum(count for _, count in groups), groups=groups)
