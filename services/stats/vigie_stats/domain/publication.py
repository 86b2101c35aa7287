"""A year's published figures: everything the public may read of a year, decided at once, after
the year has ended, and never changed after.

Published together, a year's figures are suppressed together: each dimension over the year, its
quarters and its months is one network (a year is the sum of its quarters, a quarter of its
months, and each period's total the sum of its cells), so that no count of a month or a quarter
can be worked out from another period's. Periods are whole months, quarters and years only: any
difference of two of them is a sum of published periods, each of whose counts is guarded (a day
never is: a year to date minus the year to yesterday would be). Two dimensions are crossed over
the whole year only, the year's figures of each being the table's margins. A figure hidden in one view is
hidden in every view that shows it, and suppression is run again until no view hides more.

Published once, a year's figures are frozen: a declaration that arrives late, or a revision that
moves a count, changes the exact figures, never what was published, so nothing can be learnt by
comparing what was published on two days.
"""

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations
from typing import Any

from .dimensions import UNIVERSE, Dimension
from .disclosure import SINK, SOURCE, Arc, Network, Shown, suppress, table

# A figure: (period, dimensions, values). Periods are "2025", "2025-Q1", "2025-01".
Figure = tuple[str, tuple[str, ...], tuple[Hashable, ...]]
CROSSED = [d for d in Dimension if d is not Dimension.month]
PER_STRUCTURE = ("1", "2", "3", "4", "5+")
# What masking a figure costs beyond its count: a year's count of a value is a margin of every
# crossed table; a period's total is in every dimension's view. Masked once, masked everywhere.
MARGIN, TOTAL = 4, 10


class NotPublishedThatWay(ValueError):
    """A view the publication does not hold: two dimensions crossed over less than a year, or a
    dimension counted only since the year was published."""


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def year_period(year: int) -> str:
    return f"{year}"


def quarter_period(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def month_period(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def periods(year: int) -> list[str]:
    return [
        year_period(year),
        *(quarter_period(year, q) for q in range(1, 5)),
        *(month_period(year, m) for m in range(1, 13)),
    ]


class NotACalendarPeriod(ValueError):
    pass


def calendar_period(start: date, end: date) -> str:
    """The calendar month, quarter or year that runs from ``start`` to ``end`` (inclusive), or
    ``NotACalendarPeriod`` saying why not: the public figures cover whole periods only, so that
    none can be worked out from two overlapping ones."""
    after = end + timedelta(days=1)
    if start.day != 1 or after.day != 1:
        raise NotACalendarPeriod(
            "published figures cover whole calendar months, quarters or years: from is the first day of"
            " one (2025-01-01) and to the last day (2025-03-31)"
        )
    months = (after.year - start.year) * 12 + after.month - start.month
    if start.year == end.year and months == 12:
        return year_period(start.year)
    if months == 3 and start.month % 3 == 1:
        return quarter_period(start.year, quarter_of(start.month))
    if months == 1:
        return month_period(start.year, start.month)
    raise NotACalendarPeriod(
        f"{start} to {end} is not a calendar month, quarter (starting in January, April, July or October)"
        " or year: published figures cover those only"
    )


def months_in(period: str) -> list[str]:
    """The months of a period, as periods themselves."""
    year = int(period[:4])
    if "-Q" in period:
        quarter = int(period[-1])
        return [month_period(year, m) for m in range(3 * quarter - 2, 3 * quarter + 1)]
    if "-" in period:
        return [period]
    return [month_period(year, m) for m in range(1, 13)]


def total(period: str) -> Figure:
    return (period, (), ())


def cell(period: str, dimension: Dimension, value: Hashable) -> Figure:
    return (period, (dimension.value,), (value,))


@dataclass(frozen=True)
class YearFact:
    """One declaration as the year's publication counts it."""

    month: int
    values: Mapping[Dimension, Hashable]
    finess: str
    incident: str  # its parent incident, or itself: incidents at one provider count once


@dataclass
class Publication:
    year: int
    figures: dict[Figure, Shown]
    # Time from declaration to its ARS being told, per region whose count is published.
    delivery: dict[str, dict[str, float]] = field(default_factory=dict)

    def shown(self, figure: Figure) -> Shown:
        try:
            return self.figures[figure]
        except KeyError:
            # Frozen when published: a dimension counted since is not in an older year's figures.
            raise NotPublishedThatWay(
                f"the {self.year} figures were published without {' × '.join(figure[1])}"
            ) from None


def calendar(year: int, dimension: Dimension, facts: Sequence[YearFact]) -> Network:
    """One dimension over the year, its quarters and its months."""
    counts = Counter((f.month, f.values[dimension]) for f in facts)
    months = Counter(f.month for f in facts)
    y = year_period(year)
    arcs: list[Arc] = []
    for key in UNIVERSE[dimension]:
        by_month = {m: counts.get((m, key), 0) for m in range(1, 13)}
        arcs.append(Arc(SOURCE, ("k", key), cell(y, dimension, key), sum(by_month.values()), weight=MARGIN))
        for q in range(1, 5):
            quarter = quarter_period(year, q)
            in_quarter = range(3 * q - 2, 3 * q + 1)
            arcs.append(
                Arc(("k", key), ("kq", key, q), cell(quarter, dimension, key), sum(by_month[m] for m in in_quarter))
            )
            for m in in_quarter:
                arcs.append(Arc(("kq", key, q), ("m", m), cell(month_period(year, m), dimension, key), by_month[m]))
    for m in range(1, 13):
        arcs.append(Arc(("m", m), ("q", quarter_of(m)), total(month_period(year, m)), months.get(m, 0), weight=TOTAL))
    for q in range(1, 5):
        quarter_total = sum(months.get(m, 0) for m in range(3 * q - 2, 3 * q + 1))
        arcs.append(Arc(("q", q), SINK, total(quarter_period(year, q)), quarter_total, weight=TOTAL))
    arcs.append(Arc(SINK, SOURCE, total(y), len(facts), weight=TOTAL))
    return Network(arcs)


def crossed(year: int, rows: Dimension, columns: Dimension, facts: Sequence[YearFact]) -> Network:
    """Two dimensions over the whole year, each one's year figures the margins."""
    y = year_period(year)
    counts = Counter((f.values[rows], f.values[columns]) for f in facts)
    return table(
        UNIVERSE[rows],
        UNIVERSE[columns],
        counts,
        cell=lambda r, c: (y, (rows.value, columns.value), (r, c)),
        row=lambda r: cell(y, rows, r),
        column=lambda c: cell(y, columns, c),
        total=total(y),
        margin_weight=MARGIN,
        total_weight=TOTAL,
    )


def structures(year: int, facts: Sequence[YearFact]) -> Network:
    """How many structures declared once, twice, … five times or more, and in all; "more than
    2" and "more than 4" are sums of those, so the counts between them are guarded too."""
    y = year_period(year)
    per = Counter(Counter(f.finess for f in facts).values())
    counts = {label: per.get(n, 0) for n, label in enumerate(PER_STRUCTURE[:4], start=1)}
    counts["5+"] = sum(n for times, n in per.items() if times >= 5)
    several = ("several",)
    arcs = [Arc(SOURCE, SINK, (y, ("declarations_per_structure",), (k,)), counts[k]) for k in ("1", "2")]
    arcs.append(Arc(SOURCE, several, (y, ("structures_more_than_2",), ()), counts["3"] + counts["4"] + counts["5+"]))
    arcs += [Arc(several, SINK, (y, ("declarations_per_structure",), (k,)), counts[k]) for k in ("3", "4", "5+")]
    arcs.append(Arc(SINK, SOURCE, (y, ("structures",), ()), sum(counts.values()), weight=TOTAL))
    return Network(arcs)


def incidents(year: int, facts: Sequence[YearFact]) -> Network:
    """Distinct incidents (declarations at one shared provider count once) beside the year's
    declarations: their difference is how many declarations a shared incident took in."""
    y = year_period(year)
    distinct = len({f.incident for f in facts})
    arcs = [
        Arc(SOURCE, SINK, (y, ("incidents",), ()), distinct),
        Arc(SOURCE, SINK, (y, ("incidents", "shared"), ()), len(facts) - distinct, published=False),
        Arc(SINK, SOURCE, total(y), len(facts), weight=TOTAL),
    ]
    return Network(arcs)


def publish(year: int, facts: Sequence[YearFact]) -> Publication:
    """Every figure of the year, exact or marked, consistent across every view that shows it."""
    networks = [calendar(year, d, facts) for d in CROSSED]
    networks += [crossed(year, a, b, facts) for a, b in combinations(CROSSED, 2)]
    networks += [structures(year, facts), incidents(year, facts)]
    forced: dict[Any, str] = {}
    while True:
        hidden: dict[Any, str] = {}
        for network in networks:
            hidden.update(suppress(network, forced))
        if hidden.keys() <= forced.keys():
            break
        forced.update(hidden)
    figures: dict[Any, Shown] = {}
    for network in networks:
        for arc in network.arcs:
            if arc.published:
                figures[arc.key] = forced.get(arc.key, arc.value)
    return Publication(year, figures)


def delivery_figures(publication: Publication, delays: Mapping[str, Sequence[float]]) -> dict[str, dict[str, float]]:
    """Per region whose year count is published, the time it took to tell its ARS (median, p90,
    p99 of the seconds from declaration to the first notification)."""
    y = year_period(publication.year)
    shown = {}
    for region, seconds in delays.items():
        if isinstance(publication.figures.get(cell(y, Dimension.region, region)), int) and seconds:
            shown[region] = {name: round(percentile(seconds, q), 3) for name, q in _PERCENTILES}
    return shown


_PERCENTILES = (("median_seconds", 0.5), ("p90_seconds", 0.9), ("p99_seconds", 0.99))


def percentile(values: Iterable[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def encode(figure: Figure) -> str:
    """A figure as text, for storing a publication as JSON: ``2025-Q1|region|94``."""
    period, dimensions, values = figure
    return "|".join([period, ",".join(dimensions), ",".join(_text(v) for v in values)])


def decode(text: str) -> Figure:
    period, dimensions, values = text.split("|")
    names = tuple(dimensions.split(",")) if dimensions else ()
    parsed = tuple(_value(v) for v in values.split(",")) if values else ()
    return period, names, parsed


def _text(value: Hashable) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _value(text: str) -> Hashable:
    return {"true": True, "false": False}.get(text, text)
