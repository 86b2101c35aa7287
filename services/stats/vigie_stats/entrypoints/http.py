"""HTTP API of the stats service: the observatory's figures, as JSON or CSV, exact or public.

Every view takes ``from`` and ``to`` (days of detection, inclusive), ``format=json|csv`` and
``public=true`` for the publishable form (counts under 5 suppressed).
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from vigie_kit.db import unit_of_work
from vigie_kit.http import PROBLEM_JSON, Problem, SessionsDep
from vigie_kit.periods import InvalidPeriod, period_bounds

from ..domain.dimensions import Dimension, InvalidQuery, parse_group_by
from ..handlers import (
    count_declarations,
    count_structures,
    delivery_times,
    same_span_a_year_before,
    today_in_france,
    year_span,
)
from ..views import exact, public, small, stats_csv, to_csv

router = APIRouter(prefix="/v1/stats", tags=["statistics"])


class Format(StrEnum):
    json = "json"
    csv = "csv"


Start = Annotated[date | None, Query(alias="from", description="first day of detection, inclusive")]
End = Annotated[date | None, Query(alias="to", description="last day of detection, inclusive")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "Unknown dimension or bad period", "content": {PROBLEM_JSON: {}}}
}


def _check(start: date | None, end: date | None) -> None:
    try:
        period_bounds(start, end)
    except InvalidPeriod as error:
        raise Problem(
            422, str(error), errors=[{"field": error.field, "message": error.reason, "type": "period"}]
        ) from None


def _answer(body: dict[str, Any], csv_text: str, fmt: Format, name: str) -> Response:
    if fmt is Format.csv:
        return Response(
            csv_text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="vigie-{name}.csv"'},
        )
    return JSONResponse(body)


@router.get("", summary="Count declarations along one or two dimensions", responses=_ERRORS)
async def stats(
    sessions: SessionsDep,
    group_by: Annotated[
        str, Query(description=f"one or two of: {', '.join(Dimension)} (comma-separated)", examples=["region"])
    ],
    start: Start = None,
    end: End = None,
    fmt: Annotated[Format, Query(alias="format", description="json or csv")] = Format.json,
    public_mode: Annotated[bool, Query(alias="public", description="suppress counts under 5")] = False,
) -> Response:
    """``{"total": N, "groups": [{"key": …, "count": n}]}``; for two dimensions ``key`` is a list.
    In public mode counts under 5 read ``"<5"``, and others ``"masqué"`` where a total would
    otherwise give a small count away."""
    try:
        dimensions = parse_group_by(group_by)
    except InvalidQuery as error:
        raise Problem(
            422, str(error), errors=[{"field": "group_by", "message": str(error), "type": "dimension"}]
        ) from None
    _check(start, end)
    async with unit_of_work(sessions) as session:
        counts = await count_declarations(session, dimensions, start, end)
        pair = None
        if public_mode and len(dimensions) == 1 and dimensions[0] in (Dimension.region, Dimension.category):
            pair = await count_declarations(session, [Dimension.region, Dimension.category], start, end)
    body = public(counts, dimensions, pair) if public_mode else exact(counts, dimensions)
    return _answer(body, stats_csv(body, dimensions), fmt, "-".join(d.value for d in dimensions))


@router.get("/structures", summary="How many structures declared, and how many did so repeatedly", responses=_ERRORS)
async def structures(
    sessions: SessionsDep,
    start: Start = None,
    end: End = None,
    fmt: Annotated[Format, Query(alias="format")] = Format.json,
    public_mode: Annotated[bool, Query(alias="public")] = False,
) -> Response:
    _check(start, end)
    async with unit_of_work(sessions) as session:
        found = await count_structures(session, start, end)
    body = {
        "structures": small(found.structures, public_mode),
        "more_than_2": small(found.more_than_2, public_mode),
        "more_than_4": small(found.more_than_4, public_mode),
        "public": public_mode,
    }
    csv_text = to_csv(["figure", "count"], [[k, v] for k, v in body.items() if k != "public"])
    return _answer(body, csv_text, fmt, "structures")


@router.get(
    "/delivery",
    summary="Time from declaration to the ARS notification, per region (median, p90, p99)",
    responses=_ERRORS,
)
async def delivery(
    sessions: SessionsDep,
    start: Start = None,
    end: End = None,
    fmt: Annotated[Format, Query(alias="format")] = Format.json,
    public_mode: Annotated[bool, Query(alias="public")] = False,
) -> Response:
    _check(start, end)
    async with unit_of_work(sessions) as session:
        rows = await delivery_times(session, start, end)
    groups = []
    for row in rows:
        hidden = public_mode and row.count < 5
        groups.append(
            {
                "key": row.region,
                "count": small(row.count, public_mode),
                "median_seconds": None if hidden else round(row.median_seconds, 3),
                "p90_seconds": None if hidden else round(row.p90_seconds, 3),
                "p99_seconds": None if hidden else round(row.p99_seconds, 3),
            }
        )
    body = {"groups": groups, "public": public_mode}
    header = ["region", "count", "median_seconds", "p90_seconds", "p99_seconds"]
    return _answer(
        body, to_csv(header, [[g[h if h != "region" else "key"] for h in header] for g in groups]), fmt, "delivery"
    )


@router.get(
    "/compare", summary="This year against last year, on the same span of days, per dimension", responses=_ERRORS
)
async def compare(
    sessions: SessionsDep,
    group_by: Annotated[str, Query(description=f"one of: {', '.join(Dimension)}")],
    year: Annotated[int | None, Query(ge=2001, le=2099, description="default: this year")] = None,
    fmt: Annotated[Format, Query(alias="format")] = Format.json,
    public_mode: Annotated[bool, Query(alias="public")] = False,
) -> Response:
    try:
        dimensions = parse_group_by(group_by)
        if len(dimensions) != 1:
            raise InvalidQuery("compare takes one dimension")
    except InvalidQuery as error:
        raise Problem(
            422, str(error), errors=[{"field": "group_by", "message": str(error), "type": "dimension"}]
        ) from None
    today = today_in_france()
    this_start, this_end = year_span(year or today.year, today)
    last_start, last_end = same_span_a_year_before(this_start, this_end)
    async with unit_of_work(sessions) as session:
        this = await count_declarations(session, dimensions, this_start, this_end)
        last = await count_declarations(session, dimensions, last_start, last_end)
    now_counts = {key[0]: n for key, n in this.groups}
    then_counts = {key[0]: n for key, n in last.groups}
    if public_mode:
        shown_now = public(this, dimensions)["groups"]
        shown_then = public(last, dimensions)["groups"]
        now_view = {g["key"]: g["count"] for g in shown_now}
        then_view = {g["key"]: g["count"] for g in shown_then}
    else:
        now_view, then_view = dict(now_counts), dict(then_counts)
    groups = []
    for key in sorted(set(now_view) | set(then_view), key=str):
        now, then = now_view.get(key, 0), then_view.get(key, 0)
        comparable = isinstance(now, int) and isinstance(then, int)
        groups.append(
            {
                "key": key,
                "this_year": now,
                "last_year": then,
                "change": now - then if comparable else None,
                "change_percent": round(100 * (now - then) / then, 1) if comparable and then else None,
            }
        )
    body = {
        "dimension": dimensions[0].value,
        "this_year": {
            "from": this_start.isoformat(),
            "to": this_end.isoformat(),
            "total": small(this.total, public_mode),
        },
        "last_year": {
            "from": last_start.isoformat(),
            "to": last_end.isoformat(),
            "total": small(last.total, public_mode),
        },
        "groups": groups,
        "public": public_mode,
    }
    header = ["key", "this_year", "last_year", "change", "change_percent"]
    return _answer(
        body, to_csv(header, [[g[h] for h in header] for g in groups]), fmt, f"compare-{dimensions[0].value}"
    )
