"""Small-cell suppression for published figures: a count under 5 is shown as "<5", and enough
other cells are masked that no such count can be worked out from the totals.

Primary suppression hides counts from 0 to 4. Secondary suppression then masks, in every row and
column (and among the margins) that would otherwise hide a single cell, the smallest other
published cell, until every equation the table publishes has at least two unknowns. An audit
then asks, for each hidden count, whether another value fits everything published and what the
marks say ("<5" is 0 to 4, "masqué" at least 5), and masks more until no small count is pinned.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THRESHOLD = 5
UNDER = "<5"
MASKED = "masqué"

Cell = tuple[Hashable, Hashable]


@dataclass
class Table:
    """A two-way table with its margins; ``None`` in ``hidden`` means published."""

    rows: list[Hashable]
    columns: list[Hashable]
    counts: dict[Cell, int]
    hidden: dict[Any, str]  # cell (r, c), ("row", r), ("column", c) → UNDER or MASKED

    def row_total(self, row: Hashable) -> int:
        return sum(self.counts[(row, c)] for c in self.columns)

    def column_total(self, column: Hashable) -> int:
        return sum(self.counts[(r, column)] for r in self.rows)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def value(self, key: Any) -> int:
        if isinstance(key, tuple) and key and key[0] == "row" and len(key) == 2 and key not in self.counts:
            return self.row_total(key[1])
        if isinstance(key, tuple) and key and key[0] == "column" and len(key) == 2 and key not in self.counts:
            return self.column_total(key[1])
        return self.counts[key]

    def shown(self, key: Any) -> int | str:
        return self.hidden.get(key, self.value(key))

    def shown_total(self) -> int | str:
        if None in self.hidden:
            return self.hidden[None]
        return self.total if self.total >= THRESHOLD else UNDER

    def equations(self) -> list[tuple[Any, list[Any]]]:
        """Every published sum: (its total's key, the keys it adds up); None is the grand total,
        itself shown as "<5" (and so no equation) when it is under 5."""
        sums: list[tuple[Any, list[Any]]] = []
        sums += [(("row", r), [(r, c) for c in self.columns]) for r in self.rows]
        sums += [(("column", c), [(r, c) for r in self.rows]) for c in self.columns]
        if None not in self.hidden:
            sums.append((None, [("row", r) for r in self.rows]))
            sums.append((None, [("column", c) for c in self.columns]))
        return sums


def _mask_second(table: Table, keys: list[Any]) -> bool:
    """If exactly one of ``keys`` is hidden, hide the smallest published one too."""
    hidden = [k for k in keys if k in table.hidden]
    if len(hidden) != 1:
        return False
    return _mask_smallest(table, keys)


def _mask_smallest(table: Table, keys: list[Any]) -> bool:
    published = [k for k in keys if k not in table.hidden]
    if not published:
        return False
    smallest = min(published, key=lambda k: (table.value(k), str(k)))
    table.hidden[smallest] = MASKED
    return True


def suppress(rows: Sequence[Hashable], columns: Sequence[Hashable], counts: Mapping[Any, int]) -> Table:  # noqa: PLR0912
    table = Table(list(rows), list(columns), {(r, c): counts.get((r, c), 0) for r in rows for c in columns}, {})
    if table.total < THRESHOLD:
        table.hidden[None] = UNDER
    for key, value in table.counts.items():
        if value < THRESHOLD:
            table.hidden[key] = UNDER
    for r in table.rows:
        if table.row_total(r) < THRESHOLD:
            table.hidden[("row", r)] = UNDER
    for c in table.columns:
        if table.column_total(c) < THRESHOLD:
            table.hidden[("column", c)] = UNDER
    changed = True
    while changed:
        changed = False
        for total, parts in table.equations():
            if total is not None and total in table.hidden:
                continue  # a hidden total publishes no equation
            changed |= _mask_second(table, parts)
    # The rule above leaves two unknowns in every published sum; combined, the sums and the
    # marks ("<5" is 0 to 4, a masked count at least 5) can still pin a small count down. Mask
    # more, next to what is pinned, until nothing is.
    while pinned := disclosed(table):
        masked_more = False
        for row, column in pinned:
            lines = [[(row, c) for c in table.columns], [(r, column) for r in table.rows]]
            masked_more |= any(_mask_smallest(table, line) for line in lines)
        margins = [("row", r) for r in table.rows] + [("column", c) for c in table.columns]
        if not masked_more and not _mask_smallest(table, margins):
            if None in table.hidden:
                break
            table.hidden[None] = MASKED if table.total >= THRESHOLD else UNDER
    return table


INFINITY = 10**9


def _residual(table: Table) -> dict[Any, set[Any]]:
    """The table as a circulation (source → row → column → sink → source, each arc carrying a
    count), and the arcs along which its true counts could move while everything published
    stays as it is: a published figure is fixed; "<5" may move within 0..4; a masked one may
    move above 5."""
    source, sink = ("source",), ("sink",)
    arcs: list[tuple[Any, Any, Any, int]] = []  # (tail, head, key of the figure, its value)
    for r in table.rows:
        arcs.append((source, ("r", r), ("row", r), table.row_total(r)))
        for c in table.columns:
            arcs.append((("r", r), ("c", c), (r, c), table.counts[(r, c)]))
    for c in table.columns:
        arcs.append((("c", c), sink, ("column", c), table.column_total(c)))
    arcs.append((sink, source, None, table.total))
    graph: dict[Any, set[Any]] = {}
    for tail, head, key, value in arcs:
        mark = table.hidden.get(key)
        if mark is None:
            continue
        low, high = (0, THRESHOLD - 1) if mark == UNDER else (THRESHOLD, INFINITY)
        if value < high:
            graph.setdefault(tail, set()).add(head)
        if value > low:
            graph.setdefault(head, set()).add(tail)
    return graph


def _reaches(graph: dict[Any, set[Any]], start: Any, goal: Any, arc: tuple[Any, Any]) -> bool:
    """Whether ``goal`` can be reached from ``start`` without going back along ``arc``."""
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        for following in graph.get(node, ()):
            if (node, following) in (arc, arc[::-1]) or following in seen:
                continue
            if following == goal:
                return True
            seen.add(following)
            frontier.append(following)
    return False


def disclosed(table: Table) -> list[Any]:
    """The hidden "<5" counts that what is published pins down to one value.

    A count can take another value exactly when its arc lies on a cycle of the residual graph
    (circulation theory: the figures' constraints are those of a flow network, whose feasible
    flows are integral), so each check is a search in a graph of a few dozen nodes."""
    graph = _residual(table)
    pinned = []
    for key, mark in table.hidden.items():
        if mark != UNDER or key not in table.counts:
            continue
        row, column = ("r", key[0]), ("c", key[1])
        value = table.counts[key]
        up = value < THRESHOLD - 1 and _reaches(graph, column, row, (row, column))
        down = value > 0 and _reaches(graph, row, column, (row, column))
        if not (up or down):
            pinned.append(key)
    return pinned


def audit(table: Table) -> bool:
    """No count under 5 can be worked out exactly from what is published."""
    return not disclosed(table)


def suppress_list(counts: dict[Hashable, int]) -> tuple[dict[Hashable, int | str], int | str]:
    """One dimension with its total: the same rules as a table with one column."""
    table = suppress(list(counts), ["count"], {(k, "count"): v for k, v in counts.items()})
    return {k: table.shown((k, "count")) for k in counts}, table.shown_total()
