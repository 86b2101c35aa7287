"""Small-cell suppression for published figures: a count under 5 is shown as "<5", and enough
other figures are masked that no such count can be worked out from what is published.

Published figures are the flows of a network: each figure is an arc, each sum the network
publishes (a row and its cells, a year and its quarters, a quarter and its months, a total and
its parts) is a node where what comes in goes out. A two-way table is source → row → column →
sink → source; a year is year → quarter → month → month's total → quarter's total → year's
total. A count that is no published figure but follows from some (declarations beyond the first
of a shared incident: the year's declarations minus its incidents) is an arc too, unpublished,
and guarded alike. The sum of several hidden figures may be known (a row's total minus its shown
cells, a year minus one of its quarters): as in any suppressed table, that pins none of them.

Primary suppression hides counts from 0 to 4. An audit then asks, for each hidden count of 1 to
4 (and each unpublished one), whether another value fits everything published and what the
marks say ("<5" is 0 to 4, "masqué" at least 5). A count can take another value exactly when its
arc lies on a cycle of the residual network (circulation theory: the figures' constraints are
those of a flow network, whose feasible flows are integral), so each check is a search in a graph
of a few hundred nodes. Secondary suppression opens, for each count still pinned, the cheapest
such cycle: it masks the published figures along the cheapest path that closes one, a figure
costing its count times its weight (a figure many views share, a total or a margin, weighs
more: masked here, it is masked in all of them). A 0 gives nobody away: it reads "<5", and may
be worked out.
"""

import heapq
import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

THRESHOLD = 5
UNDER = "<5"
MASKED = "masqué"
INFINITY = 10**9

Key = Hashable
Shown = int | str


@dataclass(frozen=True, slots=True)
class Arc:
    tail: Hashable
    head: Hashable
    key: Key
    value: int
    # An arc that is no published figure (a part of a total nobody publishes) is still a count of
    # its own: it must not be worked out when it is small, and it can never be masked.
    published: bool = True
    # What masking it costs beside its count: a figure that other views show too weighs more.
    weight: int = 1


@dataclass
class Network:
    arcs: list[Arc]

    def __post_init__(self) -> None:
        self.index = {arc.key: i for i, arc in enumerate(self.arcs)}
        self.at: dict[Hashable, list[int]] = {}
        for i, arc in enumerate(self.arcs):
            self.at.setdefault(arc.tail, []).append(i)
            self.at.setdefault(arc.head, []).append(i)

    def value(self, key: Key) -> int:
        return self.arcs[self.index[key]].value

    def shown(self, hidden: Mapping[Key, str], key: Key) -> Shown:
        return hidden.get(key, self.value(key))


def suppress(network: Network, forced: Mapping[Key, str] | None = None) -> dict[Key, str]:
    """The figures to hide, each with its mark. ``forced`` are figures hidden already elsewhere
    (in another published view that shows them too): hidden here as well."""
    hidden = {arc.key: UNDER for arc in network.arcs if arc.published and arc.value < THRESHOLD}
    for key, mark in (forced or {}).items():
        if key in network.index and key not in hidden:
            hidden[key] = mark
    while pinned := disclosed(network, hidden):
        for key in pinned:
            i = network.index[key]
            if _movable(network, _residual(network, hidden), hidden, i):
                continue  # freed by what was masked for another
            path = _opening(network, hidden, i)
            if path is None:  # no cycle can ever hold it: hide everything it touches
                path = [j for node in (network.arcs[i].tail, network.arcs[i].head) for j in network.at[node]]
            for j in path:
                arc = network.arcs[j]
                if arc.published and arc.key not in hidden:
                    hidden[arc.key] = MASKED
    return hidden


def _opening(network: Network, hidden: Mapping[Key, str], i: int) -> list[int] | None:
    """The arcs of the cheapest path that closes a cycle through arc ``i`` in a direction it has
    room for, once the published figures along it are masked; None if there is none."""
    arc = network.arcs[i]
    low, high = _bounds(arc, hidden)
    best: tuple[float, list[int]] | None = None
    for start, goal, room in ((arc.head, arc.tail, arc.value < high), (arc.tail, arc.head, arc.value > low)):
        if not room:
            continue
        found = _cheapest_path(network, hidden, start, goal, i)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return None if best is None else best[1]


def _cheapest_path(
    network: Network, hidden: Mapping[Key, str], start: Hashable, goal: Hashable, skip: int
) -> tuple[float, list[int]] | None:
    """Dijkstra from ``start`` to ``goal``: going along an arc that can already move that way
    costs nothing; along a published figure, masking it (it may then rise; fall, if above 5)."""
    order = itertools.count()
    queue: list[tuple[float, int, Hashable]] = [(0.0, next(order), start)]
    best: dict[Hashable, float] = {start: 0.0}
    came: dict[Hashable, tuple[Hashable, int]] = {}
    while queue:
        cost, _, node = heapq.heappop(queue)
        if node == goal:
            path = []
            while node != start:
                node, j = came[node]
                path.append(j)
            return cost, path
        if cost > best.get(node, INFINITY):
            continue
        for j in network.at[node]:
            if j == skip:
                continue
            arc = network.arcs[j]
            forward = arc.tail == node
            step = _step_cost(arc, hidden, forward=forward)
            if step is None:
                continue
            following = arc.head if forward else arc.tail
            if cost + step < best.get(following, INFINITY):
                best[following] = cost + step
                came[following] = (node, j)
                heapq.heappush(queue, (cost + step, next(order), following))
    return None


def _step_cost(arc: Arc, hidden: Mapping[Key, str], *, forward: bool) -> float | None:
    low, high = _bounds(arc, hidden)
    if (arc.value < high) if forward else (arc.value > low):
        return 0.0  # it can move that way already
    if not arc.published or arc.key in hidden:
        return None
    if not forward and arc.value <= THRESHOLD:
        return None  # masked, it reads "at least 5": a 5 cannot fall
    return float(arc.value * arc.weight)


Graph = dict[Hashable, list[tuple[Hashable, int]]]


def _residual(network: Network, hidden: Mapping[Key, str]) -> Graph:
    """The arcs along which the true counts could move while everything published stays as it
    is: a published figure is fixed; "<5" may move within 0..4; a masked one above 5; a count
    nobody publishes anywhere from 0."""
    graph: Graph = {}
    for i, arc in enumerate(network.arcs):
        low, high = _bounds(arc, hidden)
        if low == high:
            continue
        if arc.value < high:
            graph.setdefault(arc.tail, []).append((arc.head, i))
        if arc.value > low:
            graph.setdefault(arc.head, []).append((arc.tail, i))
    return graph


def _bounds(arc: Arc, hidden: Mapping[Key, str]) -> tuple[int, int]:
    if not arc.published:
        return 0, INFINITY
    mark = hidden.get(arc.key)
    if mark is None:
        return arc.value, arc.value
    return (0, THRESHOLD - 1) if mark == UNDER else (THRESHOLD, INFINITY)


def _reaches(graph: Graph, start: Hashable, goal: Hashable, skip: int) -> bool:
    """Whether ``goal`` can be reached from ``start`` without going along arc ``skip``."""
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        for following, arc in graph.get(node, ()):
            if arc == skip or following in seen:
                continue
            if following == goal:
                return True
            seen.add(following)
            frontier.append(following)
    return False


def _movable(network: Network, graph: Graph, hidden: Mapping[Key, str], i: int) -> bool:
    """Whether arc ``i``'s count can take another value, everything published staying as it is:
    whether it lies on a cycle of the residual network, in a direction it has room for."""
    arc = network.arcs[i]
    low, high = _bounds(arc, hidden)
    up = arc.value < high and _reaches(graph, arc.head, arc.tail, i)
    return up or (arc.value > low and _reaches(graph, arc.tail, arc.head, i))


def disclosed(network: Network, hidden: Mapping[Key, str]) -> list[Key]:
    """The counts of 1 to 4 that what is published pins down to one value: hidden figures, and
    counts nobody publishes."""
    graph = _residual(network, hidden)
    return [
        arc.key
        for i, arc in enumerate(network.arcs)
        if (arc.key in hidden or not arc.published) and _a_few(arc.value) and not _movable(network, graph, hidden, i)
    ]


def _a_few(count: int) -> bool:
    """A count gives someone away when it is 1 to 4. A 0 names nobody: it reads "<5" like the
    others, so that a published "<5" says nothing more, but working it out harms no one (and
    what it would pin beside it, a count of 1 to 4, is guarded as itself)."""
    return 0 < count < THRESHOLD


def audit(network: Network, hidden: Mapping[Key, str]) -> bool:
    """No count under 5 can be worked out exactly from what is published."""
    return not disclosed(network, hidden)


SOURCE, SINK = ("source",), ("sink",)


def table(
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    counts: Mapping[Any, int],
    *,
    cell: Any = lambda r, c: (r, c),
    row: Any = lambda r: ("row", r),
    column: Any = lambda c: ("column", c),
    total: Key = None,
    margin_weight: int = 1,
    total_weight: int = 1,
) -> Network:
    """A two-way table with its margins and grand total; ``cell``, ``row``, ``column`` and
    ``total`` name each figure (by default ``(r, c)``, ``("row", r)``, ``("column", c)``, None)."""
    value = {(r, c): counts.get((r, c), 0) for r in rows for c in columns}
    arcs = [Arc(SOURCE, ("r", r), row(r), sum(value[(r, c)] for c in columns), weight=margin_weight) for r in rows]
    arcs += [Arc(("r", r), ("c", c), cell(r, c), value[(r, c)]) for r in rows for c in columns]
    arcs += [Arc(("c", c), SINK, column(c), sum(value[(r, c)] for r in rows), weight=margin_weight) for c in columns]
    arcs.append(Arc(SINK, SOURCE, total, sum(value.values()), weight=total_weight))
    return Network(arcs)


def listing(counts: Mapping[Any, int], *, item: Any = lambda k: k, total: Key = None) -> Network:
    """One dimension and its total."""
    arcs = [Arc(SOURCE, SINK, item(k), n) for k, n in counts.items()]
    arcs.append(Arc(SINK, SOURCE, total, sum(counts.values())))
    return Network(arcs)
