"""A year's publication: no count under 5 can be worked out by differencing two published tables
over nested or adjacent periods (checked by an independent solver, tests/support/differencing.py),
a figure shown in two views is shown alike, and the publication is the same however it is run."""

import random
from collections import Counter
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.differencing import PublishedTable, months_of, pairs, worked_out
from vigie_stats.domain.dimensions import UNIVERSE, Dimension
from vigie_stats.domain.disclosure import MASKED, UNDER
from vigie_stats.domain.publication import (
    CROSSED,
    NotPublishedThatWay,
    Publication,
    YearFact,
    cell,
    periods,
    publish,
    total,
)

YEAR = 2025


def tables(publication: Publication, dimension: Dimension) -> list[PublishedTable]:
    return [
        PublishedTable(
            period,
            months_of(period),
            {key: publication.shown(cell(period, dimension, key)) for key in UNIVERSE[dimension]},
            publication.shown(total(period)),
        )
        for period in periods(publication.year)
    ]


def findings(publication: Publication, dimension: Dimension) -> list[object]:
    return [found for a, b in pairs(tables(publication, dimension)) for found in worked_out(a, b)]


def year_of(draws: list[tuple[int, int, int, int]]) -> list[YearFact]:
    facts = []
    for i, (month, origin, degraded, structure) in enumerate(draws):
        values: dict[Dimension, Hashable] = {d: UNIVERSE[d][0] for d in CROSSED}
        values[Dimension.origin] = UNIVERSE[Dimension.origin][origin]
        values[Dimension.degraded_mode] = bool(degraded)
        facts.append(YearFact(month, values, f"structure-{structure}", f"incident-{i}"))
    return facts


draws = st.lists(
    st.tuples(st.integers(1, 12), st.integers(0, 2), st.integers(0, 1), st.integers(0, 30)), min_size=0, max_size=90
)


@settings(max_examples=10, deadline=None)
@given(draws)
def test_no_small_count_is_worked_out_from_two_tables_of_nested_or_adjacent_periods(
    drawn: list[tuple[int, int, int, int]],
) -> None:
    publication = publish(YEAR, year_of(drawn))
    for dimension in (Dimension.origin, Dimension.degraded_mode):
        assert findings(publication, dimension) == []


def test_a_realistic_year_gives_nothing_away_by_region() -> None:
    rng = random.Random(2025)
    facts = [
        YearFact(
            rng.randint(1, 12),
            {d: rng.choice(UNIVERSE[d]) for d in CROSSED},
            f"structure-{rng.randint(1, 400)}",
            f"incident-{i}",
        )
        for i in range(700)  # a national year (730 declarations in 2021)
    ]
    publication = publish(YEAR, facts)
    assert findings(publication, Dimension.region) == []
    truth = Counter(f.values[Dimension.region] for f in facts)
    shown = {r: publication.shown(cell(str(YEAR), Dimension.region, r)) for r in UNIVERSE[Dimension.region]}
    assert all(value in (truth[r], MASKED) if truth[r] >= 5 else value == UNDER for r, value in shown.items())
    assert sum(isinstance(v, int) for v in shown.values()) >= 12, "most regions' year counts are published"


def test_the_differencing_of_the_report_is_refused_its_small_count() -> None:
    # A year of eleven months without any incident in one region, and 3 in December: the year's
    # count minus the first eleven months would be December's 3. Here the months are published,
    # the year too, and nothing gives the 3 away.
    facts = [
        YearFact(m, {d: UNIVERSE[d][0] for d in CROSSED}, f"s{m}", f"i{m}-{n}") for m in range(1, 12) for n in range(6)
    ]
    facts += [
        YearFact(12, {**{d: UNIVERSE[d][0] for d in CROSSED}, Dimension.region: "94"}, "2A0000014", f"c{n}")
        for n in range(3)
    ]
    publication = publish(YEAR, facts)
    assert publication.shown(cell(f"{YEAR}-12", Dimension.region, "94")) == UNDER
    assert publication.shown(cell(f"{YEAR}", Dimension.region, "94")) == UNDER
    assert findings(publication, Dimension.region) == []


def test_a_figure_is_shown_alike_in_every_view_that_shows_it() -> None:
    rng = random.Random(7)
    facts = [
        YearFact(rng.randint(1, 12), {d: rng.choice(UNIVERSE[d]) for d in CROSSED}, f"s{i % 50}", f"i{i}")
        for i in range(300)
    ]
    publication = publish(YEAR, facts)
    y = str(YEAR)
    for rows, columns in [(Dimension.region, Dimension.category), (Dimension.origin, Dimension.severity)]:
        for r in UNIVERSE[rows]:
            # the crossed table's margin is the year's figure itself: one figure, one value
            assert (y, (rows.value,), (r,)) in publication.figures
        for r in UNIVERSE[rows]:
            for c in UNIVERSE[columns]:
                assert (y, (rows.value, columns.value), (r, c)) in publication.figures


@pytest.mark.parametrize("size", [0, 1, 4])
def test_a_year_too_small_to_say_anything_says_under_5_everywhere(size: int) -> None:
    facts = [YearFact(1, {d: UNIVERSE[d][0] for d in CROSSED}, "s", f"i{n}") for n in range(size)]
    publication = publish(YEAR, facts)
    assert publication.shown(total(str(YEAR))) == UNDER
    assert all(value in (UNDER, MASKED) for value in publication.figures.values())


def test_a_dimension_counted_after_a_year_was_published_is_not_in_its_figures() -> None:
    before = publish(YEAR, [])
    older = Publication(YEAR, {k: v for k, v in before.figures.items() if "regime" not in k[1]})
    with pytest.raises(NotPublishedThatWay, match="the 2025 figures were published without regime"):
        older.shown(cell(str(YEAR), Dimension.regime, "ose"))
