"""The figures as they are published: exact, or in public mode with small cells suppressed so
that no structure can be recognised; and as JSON or CSV."""

import csv
import io
from collections.abc import Hashable, Sequence
from functools import lru_cache
from typing import Any

from vigie_contracts.declaration import Category, Origin, PatientSafety, StructureType
from vigie_contracts.territory import REGIONS

from .domain.dimensions import Dimension, SeverityGrade
from .domain.disclosure import THRESHOLD, UNDER, suppress, suppress_list
from .handlers import Counts

# The values a dimension can take, so that a public table shows its empty cells as "<5" too.
UNIVERSE: dict[Dimension, list[Any]] = {
    Dimension.region: list(REGIONS),
    Dimension.category: [c.value for c in Category],
    Dimension.structure_type: [t.value for t in StructureType],
    Dimension.origin: [o.value for o in Origin],
    Dimension.patient_safety: [p.value for p in PatientSafety],
    Dimension.severity: [s.value for s in SeverityGrade],
    Dimension.degraded_mode: [False, True],
    Dimension.support_requested: [False, True],
}


def _values(dimension: Dimension, seen: list[Any]) -> list[Any]:
    universe = UNIVERSE.get(dimension)
    return universe if universe is not None else sorted(set(seen))


def exact(counts: Counts, dimensions: list[Dimension]) -> dict[str, Any]:
    return {
        "total": counts.total,
        "groups": [{"key": key[0] if len(dimensions) == 1 else list(key), "count": n} for key, n in counts.groups],
        "public": False,
    }


def public(counts: Counts, dimensions: list[Dimension], pair: Counts | None = None) -> dict[str, Any]:
    """The published form: counts under 5 shown as "<5", and others masked as needed.

    ``pair`` is the region × category table: the views by region and by category are its
    margins, suppressed with it, so that no combination of published views gives a small cell
    away.
    """
    if len(dimensions) == 2:
        return _public_table(counts, dimensions)
    (dimension,) = dimensions
    if pair is not None and dimension in (Dimension.region, Dimension.category):
        table = _suppressed_table(pair, [Dimension.region, Dimension.category])
        side = "row" if dimension is Dimension.region else "column"
        keys = table.rows if side == "row" else table.columns
        groups = [{"key": k, "count": table.shown((side, k))} for k in keys]
        return {"total": table.shown_total(), "groups": groups, "public": True}
    found = {key[0]: n for key, n in counts.groups}
    cells, total = suppress_list({k: found.get(k, 0) for k in _values(dimension, list(found))})
    return {"total": total, "groups": [{"key": k, "count": v} for k, v in cells.items()], "public": True}


def _suppressed_table(counts: Counts, dimensions: list[Dimension]) -> Any:
    found = {(key[0], key[1]): n for key, n in counts.groups}
    rows = _values(dimensions[0], [k[0] for k in found])
    columns = _values(dimensions[1], [k[1] for k in found])
    return _suppress_cached(tuple(rows), tuple(columns), tuple(sorted(found.items(), key=str)))


@lru_cache(maxsize=64)
def _suppress_cached(rows: tuple[Any, ...], columns: tuple[Any, ...], found: tuple[tuple[Any, int], ...]) -> Any:
    # Suppressing a full region × category table solves a few hundred small linear programs:
    # the same figures are suppressed once.
    return suppress(rows, columns, dict(found))


def _public_table(counts: Counts, dimensions: list[Dimension]) -> dict[str, Any]:
    table = _suppressed_table(counts, dimensions)
    return {
        "total": table.shown_total(),
        "groups": [{"key": [r, c], "count": table.shown((r, c))} for r in table.rows for c in table.columns],
        "margins": {
            dimensions[0].value: [{"key": r, "count": table.shown(("row", r))} for r in table.rows],
            dimensions[1].value: [{"key": c, "count": table.shown(("column", c))} for c in table.columns],
        },
        "public": True,
    }


def small(value: int, public_mode: bool) -> int | str:
    return UNDER if public_mode and value < THRESHOLD else value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Hashable | None]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["" if value is None else str(value).lower() if isinstance(value, bool) else value for value in row]
        )
    return buffer.getvalue()


def stats_csv(body: dict[str, Any], dimensions: list[Dimension]) -> str:
    header = [d.value for d in dimensions] + ["count"]
    rows = [[*(g["key"] if isinstance(g["key"], list) else [g["key"]]), g["count"]] for g in body["groups"]]
    rows.append(["total", *([""] * (len(dimensions) - 1)), body["total"]])
    return to_csv(header, rows)
