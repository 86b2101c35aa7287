"""The figures as they are served: exact (for a credential, within its region), or as published
(small cells suppressed once and for all, see ``domain.publication``); as JSON or CSV."""

import csv
import io
from collections.abc import Hashable, Sequence
from typing import Any

from ..adapters.figures import Counts, Structures
from ..domain.dimensions import UNIVERSE, Dimension
from ..domain.disclosure import MASKED, Shown
from ..domain.publication import (
    PER_STRUCTURE,
    NotPublishedThatWay,
    Publication,
    cell,
    months_in,
    total,
    year_period,
)


def exact(counts: Counts, dimensions: list[Dimension], region: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "total": counts.total,
        "groups": [{"key": key[0] if len(dimensions) == 1 else list(key), "count": n} for key, n in counts.groups],
        "public": False,
    }
    if region is not None:
        body["region"] = region  # an ARS sees its own region's declarations
    return body


def published(publication: Publication, dimensions: list[Dimension], period: str) -> dict[str, Any]:
    """A count view as the publication holds it: one dimension over any of the year's periods, a
    dimension by month, or two dimensions over the whole year."""
    shown = publication.shown
    if len(dimensions) == 1:
        (dimension,) = dimensions
        keys: list[Hashable] = [*months_in(period)] if dimension is Dimension.month else UNIVERSE[dimension]
        listed = [{"key": key, "count": _one(publication, dimension, key, period)} for key in keys]
        return {"total": shown(total(period)), "groups": listed, "public": True, "period": period}
    if Dimension.month in dimensions:
        (other,) = [d for d in dimensions if d is not Dimension.month]
        months = months_in(period)
        pairs = [(k, m) for k in UNIVERSE[other] for m in months]
        groups: list[dict[str, Any]] = [
            {"key": [k, m] if dimensions[0] is other else [m, k], "count": shown(cell(m, other, k))} for k, m in pairs
        ]
        margins: dict[str, list[dict[str, Any]]] = {
            other.value: [{"key": k, "count": shown(cell(period, other, k))} for k in UNIVERSE[other]],
            Dimension.month.value: [{"key": m, "count": shown(total(m))} for m in months],
        }
    else:
        if period != year_period(publication.year):
            raise NotPublishedThatWay(
                "two dimensions are published crossed over a whole year only; ask for one dimension over a"
                " quarter or a month"
            )
        rows, columns = dimensions
        groups = [
            {"key": [r, c], "count": shown((period, (rows.value, columns.value), (r, c)))}
            for r in UNIVERSE[rows]
            for c in UNIVERSE[columns]
        ]
        margins = {d.value: [{"key": k, "count": shown(cell(period, d, k))} for k in UNIVERSE[d]] for d in dimensions}
    return {"total": shown(total(period)), "groups": groups, "margins": margins, "public": True, "period": period}


def _one(publication: Publication, dimension: Dimension, key: Hashable, period: str) -> Shown:
    if dimension is Dimension.month:
        return publication.shown(total(str(key)))
    return publication.shown(cell(period, dimension, key))


def structures_body(found: Structures, region: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "structures": found.structures,
        "more_than_2": found.more_than_2,
        "more_than_4": found.more_than_4,
        "declarations_per_structure": found.per_structure,
        "public": False,
    }
    if region is not None:
        body["region"] = region
    return body


def published_structures(publication: Publication) -> dict[str, Any]:
    y = year_period(publication.year)
    return {
        "structures": publication.shown((y, ("structures",), ())),
        "more_than_2": publication.shown((y, ("structures_more_than_2",), ())),
        "more_than_4": publication.shown((y, ("declarations_per_structure",), ("5+",))),
        "declarations_per_structure": {
            label: publication.shown((y, ("declarations_per_structure",), (label,))) for label in PER_STRUCTURE
        },
        "public": True,
        "period": y,
    }


def published_delivery(publication: Publication) -> list[dict[str, Any]]:
    y = year_period(publication.year)
    groups = []
    for region in UNIVERSE[Dimension.region]:
        times = publication.delivery.get(str(region), {})
        groups.append(
            {
                "key": region,
                "count": publication.shown(cell(y, Dimension.region, region)),
                "median_seconds": times.get("median_seconds"),
                "p90_seconds": times.get("p90_seconds"),
                "p99_seconds": times.get("p99_seconds"),
            }
        )
    return groups


def change(now: Shown, then: Shown) -> tuple[int | None, float | None]:
    """This year's count against last year's: both must be plain numbers to be compared."""
    if not (isinstance(now, int) and isinstance(then, int)):
        return None, None
    return now - then, round(100 * (now - then) / then, 1) if then else None


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


__all__ = ["MASKED", "NotPublishedThatWay", "change", "exact", "published", "stats_csv", "to_csv"]
