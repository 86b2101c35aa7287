"""An observer's attack on published figures, independent of the code that suppresses them: take
two published tables of one dimension over nested or adjacent calendar periods, write down every
equation and bound they state ("<5" is 0 to 4, "masqué" at least 5), and ask a linear-programming
solver the least and the most each hidden count can be. A hidden count of 1 to 4 whose least and
most are equal can be worked out (a 0 names nobody). The difference of two nested periods is a
sum of published periods (a year minus a quarter is the other three): as with a row's total
minus its shown cells, its sum may be known, so long as none of its parts is.

The equations are those of a flow network, whose matrix is totally unimodular: the solver's
bounds are those of the integer counts themselves.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations
from typing import Any

import numpy as np
from scipy.optimize import linprog

UNDER, MASKED, THRESHOLD = "<5", "masqué", 5


@dataclass(frozen=True)
class PublishedTable:
    """One published view: a dimension's counts over a period (its months), and its total."""

    period: str
    months: tuple[int, ...]  # 1..12
    cells: Mapping[Hashable, int | str]
    total: int | str


def months_of(period: str) -> tuple[int, ...]:
    if "-Q" in period:
        quarter = int(period.split("-Q")[1])
        return tuple(range(3 * quarter - 2, 3 * quarter + 1))
    if "-" in period:
        return (int(period.split("-")[1]),)
    return tuple(range(1, 13))


def bounds_of(period: str) -> tuple[date, date]:
    """The first and last day of a period, as the API takes them (``from``, ``to``)."""
    year = int(period[:4])
    months = months_of(period)
    first = date(year, months[0], 1)
    after = date(year + 1, 1, 1) if months[-1] == 12 else date(year, months[-1] + 1, 1)
    return first, after - timedelta(days=1)


def related(a: PublishedTable, b: PublishedTable) -> str | None:
    """ "nested" when one period holds the other, "adjacent" when they touch, else None."""
    first, second = set(a.months), set(b.months)
    if first < second or second < first:
        return "nested"
    if not first & second and (max(a.months) + 1 == min(b.months) or max(b.months) + 1 == min(a.months)):
        return "adjacent"
    return None


@dataclass(frozen=True)
class Finding:
    tables: tuple[str, str]
    what: str
    value: int


def worked_out(first: PublishedTable, second: PublishedTable) -> list[Finding]:
    """What an observer of these two tables can work out exactly that is under 5."""
    keys = sorted({*first.cells, *second.cells}, key=str)
    months = sorted({*first.months, *second.months})
    index = {(k, m): i for i, (k, m) in enumerate((k, m) for k in keys for m in months)}
    size = len(index)
    equal_rows, equal_values, upper_rows, upper_values = [], [], [], []

    def row(key: Hashable | None, period_months: Sequence[int]) -> np.ndarray:
        vector = np.zeros(size)
        for k in keys if key is None else [key]:
            for m in period_months:
                vector[index[(k, m)]] = 1.0
        return vector

    def state(vector: np.ndarray, shown: int | str) -> None:
        if shown == UNDER:
            upper_rows.append(vector)
            upper_values.append(THRESHOLD - 1)
        elif shown == MASKED:
            upper_rows.append(-vector)
            upper_values.append(-THRESHOLD)
        else:
            equal_rows.append(vector)
            equal_values.append(float(shown))

    for published in (first, second):
        for key, shown in published.cells.items():
            state(row(key, published.months), shown)
        state(row(None, published.months), published.total)
    options: dict[str, Any] = {"bounds": [(0, None)] * size, "method": "highs"}
    if equal_rows:
        options.update(A_eq=np.array(equal_rows), b_eq=np.array(equal_values))
    if upper_rows:
        options.update(A_ub=np.array(upper_rows), b_ub=np.array(upper_values))

    def extremes(objective: np.ndarray) -> tuple[float, float]:
        low = linprog(objective, **options)
        high = linprog(-objective, **options)
        # 3: unbounded, as a masked count is (at least 5, and no most)
        assert low.status == 0, "the published tables contradict each other"
        assert high.status in (0, 3)
        return low.fun, -high.fun if high.status == 0 else float("inf")

    findings = []
    names = (first.period, second.period)
    for published in (first, second):
        hidden = [(k, s) for k, s in published.cells.items() if s == UNDER] + (
            [(None, published.total)] if published.total == UNDER else []
        )
        for key, _ in hidden:
            low, high = extremes(row(key, published.months))
            if high - low < 0.5 and round(low) > 0:  # a 0 names nobody
                findings.append(Finding(names, f"{published.period} {key if key is not None else 'total'}", round(low)))
    return findings


def pairs(tables: Sequence[PublishedTable]) -> list[tuple[PublishedTable, PublishedTable]]:
    return [(a, b) for a, b in combinations(tables, 2) if related(a, b) is not None]
