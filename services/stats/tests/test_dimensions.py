"""What can be asked of the observatory, and the precise refusal of what cannot."""

from datetime import date, datetime

import pytest

from vigie_contracts.declaration import Structure
from vigie_kit.periods import InvalidPeriod, period_bounds
from vigie_stats.domain.dimensions import (
    NOT_STATED,
    OBSERVATORY_TZ,
    UNIVERSE,
    Dimension,
    InvalidQuery,
    parse_group_by,
    regime_of,
)


def test_one_or_two_known_dimensions() -> None:
    assert parse_group_by("region") == [Dimension.region]
    assert parse_group_by(" region , category ") == [Dimension.region, Dimension.category]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "at least one dimension"),
        ("region,category,month", "at most 2 dimensions"),
        ("region,region", "a dimension twice"),
        ("planet", "unknown dimension planet; known: region, category, month"),
    ],
)
def test_refuses_bad_group_by(value: str, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        parse_group_by(value)


def test_period_days_are_inclusive_in_paris_time() -> None:
    lower, upper = period_bounds(date(2026, 3, 1), date(2026, 3, 31))
    assert lower == datetime(2026, 3, 1, tzinfo=OBSERVATORY_TZ)
    assert upper == datetime(2026, 4, 1, tzinfo=OBSERVATORY_TZ)
    assert period_bounds(None, None) == (None, None)


def test_a_period_that_ends_before_it_starts_or_leaves_the_century_is_refused() -> None:
    with pytest.raises(InvalidPeriod, match="after"):
        period_bounds(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(InvalidPeriod, match="from: 0001-01-01 is outside"):
        period_bounds(date(1, 1, 1), None)
    with pytest.raises(InvalidPeriod, match="to: 9999-12-31 is outside"):
        period_bounds(None, date(9999, 12, 31))


def _structure(**fields: object) -> Structure:
    return Structure.model_validate({"finess": "750712184", "name": "CHU", "type": "health_facility", **fields})


def test_the_regime_is_counted_as_declared_and_not_guessed_when_unsaid() -> None:
    assert regime_of(_structure(regime="nis2_important")) == "nis2_important"
    assert regime_of(_structure(regime="none")) == "none"
    assert regime_of(_structure(essential_operator=True)) == "nis2_essential"  # the older flag
    assert regime_of(_structure()) == NOT_STATED


def test_every_dimension_has_its_values_and_what_was_not_said_is_one_of_them() -> None:
    assert set(UNIVERSE) == set(Dimension) - {Dimension.month}
    for dimension in (Dimension.legal_status, Dimension.regime, Dimension.territorial_extent):
        assert UNIVERSE[dimension][-1] == NOT_STATED
    for dimension in (Dimension.data_unavailable, Dimension.data_integrity, Dimension.data_disclosure):
        assert UNIVERSE[dimension] == [False, True]
