"""Small-cell suppression: no count under 5 is published, or can be worked out from the totals.

The property is checked against the code's own audit, and, independently, by enumerating every
table consistent with what is published."""

import itertools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vigie_stats.domain.disclosure import MASKED, UNDER, Network, audit, listing, suppress, table


@dataclass
class Table:
    """A suppressed two-way table as an observer reads it."""

    rows: list[Hashable]
    columns: list[Hashable]
    counts: dict[tuple[Hashable, Hashable], int]
    hidden: dict[Any, str]
    network: Network

    def value(self, key: Any) -> int:
        return self.network.value(key)

    def shown(self, key: Any) -> int | str:
        return self.network.shown(self.hidden, key)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def suppressed(rows: Sequence[Hashable], columns: Sequence[Hashable], counts: Mapping[Any, int]) -> Table:
    network = table(rows, columns, counts)
    full = {(r, c): counts.get((r, c), 0) for r in rows for c in columns}
    return Table(list(rows), list(columns), full, suppress(network), network)


def published(table: Table) -> dict[Any, int]:
    keys = [*table.counts, *(("row", r) for r in table.rows), *(("column", c) for c in table.columns)]
    return {k: table.value(k) for k in keys if k not in table.hidden}


def consistent_values(table: Table) -> dict[Any, set[int]]:
    """Every value each hidden cell can take in a table that shows exactly what this one shows
    (rows enumerated one at a time, then columns and the grand total checked)."""
    shown = published(table)
    grand = table.total
    # What an observer knows of the grand total: its value if shown, else that it may be anything.
    ceiling = grand if grand >= 5 and None not in table.hidden else 40

    def options(row: Any) -> list[dict[Any, int]]:
        cells = [(row, c) for c in table.columns]
        hidden = [k for k in cells if k in table.hidden]
        fixed = sum(table.counts[k] for k in cells if k not in table.hidden)
        ranges = [range(0, 5) if table.hidden[k] == UNDER else range(5, ceiling + 1) for k in hidden]
        found = []
        for values in itertools.product(*ranges):
            total = fixed + sum(values)
            if ("row", row) in shown and total != shown[("row", row)]:
                continue
            if table.hidden.get(("row", row)) == UNDER and total >= 5:
                continue
            if total > max(ceiling, 4):
                continue
            found.append(dict(zip(hidden, values, strict=True)))
        return found

    possible: dict[Any, set[int]] = {k: set() for k in table.counts if k in table.hidden}
    for choice in itertools.product(*(options(r) for r in table.rows)):
        candidate = dict(table.counts)
        for part in choice:
            candidate.update(part)
        if grand >= 5 and None not in table.hidden and sum(candidate.values()) != grand:
            continue
        if grand < 5 and sum(candidate.values()) >= 5:
            continue
        ok = True
        for c in table.columns:
            total = sum(candidate[(r, c)] for r in table.rows)
            if ("column", c) in shown and total != shown[("column", c)]:
                ok = False
            if table.hidden.get(("column", c)) == UNDER and total >= 5:
                ok = False
        if ok:
            for part in choice:
                for key, value in part.items():
                    possible[key].add(value)
    return possible


def test_a_single_small_cell_takes_a_second_one_with_it() -> None:
    table = suppressed(
        ["11", "94"],
        ["phishing", "ransomware"],
        {("11", "phishing"): 12, ("11", "ransomware"): 3, ("94", "phishing"): 8, ("94", "ransomware"): 9},
    )
    assert table.shown(("11", "ransomware")) == UNDER
    masked = [k for k, v in table.hidden.items() if v == MASKED]
    assert masked, "otherwise the row total gives the 3 away"
    assert audit(table.network, table.hidden)
    assert all(isinstance(table.shown(k), int) or k in table.hidden for k in table.counts)


def test_nothing_is_hidden_when_every_count_is_large() -> None:
    table = suppressed(["a", "b"], ["x", "y"], {("a", "x"): 10, ("a", "y"): 7, ("b", "x"): 5, ("b", "y"): 30})
    assert table.hidden == {}


def test_a_list_masks_a_second_value_when_one_is_small() -> None:
    for counts, expected in [
        ({"a": 20, "b": 3, "c": 9}, {"a": 20, "b": UNDER, "c": MASKED, None: 32}),
        ({"a": 20, "b": 3, "c": 2}, {"a": 20, "b": UNDER, "c": UNDER, None: 25}),
    ]:
        network = listing(counts)
        hidden = suppress(network)
        assert {k: network.shown(hidden, k) for k in [*counts, None]} == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=7), min_size=4, max_size=4))
def test_no_small_count_can_be_worked_out_from_what_is_published(values: list[int]) -> None:
    rows, columns = ["r1", "r2"], ["c1", "c2"]
    counts = dict(zip(itertools.product(rows, columns), values, strict=True))
    table = suppressed(rows, columns, counts)
    assert all(table.hidden.get(cell) == UNDER for cell, v in counts.items() if v < 5), "every small cell hidden"
    assert audit(table.network, table.hidden)
    possible = consistent_values(table)
    for cell, mark in table.hidden.items():
        if mark == UNDER and cell in table.counts and counts[cell] > 0:  # a 0 names nobody
            assert counts[cell] in possible[cell]
            assert len(possible[cell]) >= 2, (cell, table.hidden, counts)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=2, max_value=6).flatmap(
        lambda n: st.lists(st.integers(min_value=0, max_value=40), min_size=3 * n, max_size=3 * n).map(lambda v: (n, v))
    )
)
def test_larger_tables_pass_the_audit_and_hide_every_small_count(shape: tuple[int, list[int]]) -> None:
    width, values = shape
    rows, columns = ["r1", "r2", "r3"], [f"c{i}" for i in range(width)]
    counts = dict(zip(itertools.product(rows, columns), values, strict=True))
    table = suppressed(rows, columns, counts)
    assert all(table.hidden.get(cell) == UNDER for cell, v in counts.items() if v < 5)
    assert audit(table.network, table.hidden)
