"""HTTP API of the stats service: the observatory's figures, as JSON or CSV.

Deny by default. Without a credential, a view answers what was published: a year's figures,
decided once the year has ended, over whole calendar months, quarters or years. An ARS
credential reads its own region's exact figures; a national one (CERT Santé) reads every exact
figure and publishes a year. ``public=true`` asks for the published figures whoever asks.
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from vigie_kit.db import unit_of_work
from vigie_kit.http import PROBLEM_JSON, Problem, SessionsDep
from vigie_kit.periods import InvalidPeriod, period_bounds

from ..adapters.figures import count_declarations, count_structures, delivery_times, published_years
from ..domain.access import Denied, Viewer
from ..domain.dimensions import Dimension, InvalidQuery, parse_group_by
from ..domain.publication import NotACalendarPeriod, Publication, calendar_period, year_period
from ..handlers import (
    AlreadyPublished,
    NotEnded,
    publish_year,
    published,
    same_span_a_year_before,
    today_in_france,
    year_span,
)
from .access import ViewerDep
from .views import (
    NotPublishedThatWay,
    change,
    exact,
    published_delivery,
    published_structures,
    stats_csv,
    structures_body,
    to_csv,
)
from .views import published as published_view

router = APIRouter(prefix="/v1/stats", tags=["statistics"])


class Format(StrEnum):
    json = "json"
    csv = "csv"


Start = Annotated[date | None, Query(alias="from", description="first day of detection, inclusive")]
End = Annotated[date | None, Query(alias="to", description="last day of detection, inclusive")]
FormatQuery = Annotated[Format, Query(alias="format", description="json or csv")]
PublicQuery = Annotated[
    bool | None,
    Query(
        alias="public",
        description="true: the published figures; false: exact ones (ARS or national credential);"
        " default: exact for a credential, published without one",
    ),
]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Exact figures asked without a credential that reads them", **_PROBLEM},
    404: {"description": "No published figures for that year", **_PROBLEM},
    422: {"description": "Unknown dimension, bad period, or not a published view", **_PROBLEM},
    429: {"description": "Too many failed authentications from this address", **_PROBLEM},
}


def _refusal(error: Exception) -> Problem:
    if isinstance(error, Denied):
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        return Problem(error.status, error.detail, headers=headers)
    if isinstance(error, InvalidQuery):
        return Problem(422, str(error), errors=[{"field": "group_by", "message": str(error), "type": "dimension"}])
    if isinstance(error, InvalidPeriod):
        return Problem(422, str(error), errors=[{"field": error.field, "message": error.reason, "type": "period"}])
    if isinstance(error, NotACalendarPeriod):
        return Problem(422, str(error), errors=[{"field": "from", "message": str(error), "type": "period"}])
    if isinstance(error, NotPublishedThatWay):
        return Problem(422, str(error), errors=[{"field": "group_by", "message": str(error), "type": "published"}])
    raise error


def _exact_for(viewer: Viewer, public: bool | None) -> bool:
    """Whether to answer exact figures: asked for (or, by default, the viewer signed in)."""
    if public is True:
        return False
    if public is False:
        viewer.check_exact()
    return viewer.signed_in


def _answer(body: dict[str, Any], csv_text: str, fmt: Format, name: str, exact_figures: bool) -> Response:
    # Exact figures are one person's to see: no cache keeps them. Published ones never change.
    headers = {
        "Cache-Control": "private, no-store" if exact_figures else "public, max-age=300",
        "Vary": "Authorization, Cookie",
    }
    if fmt is Format.csv:
        headers["Content-Disposition"] = f'attachment; filename="vigie-{name}.csv"'
        return Response(csv_text, media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(body, headers=headers)


async def _publication(sessions: Any, start: date | None, end: date | None) -> tuple[Publication, str]:
    """The publication a public question reads, and the period it asks for (the latest
    published year when it names none)."""
    async with unit_of_work(sessions) as session:
        if start is None and end is None:
            years = await published_years(session)
            if not years:
                raise Problem(404, "no figures are published yet: a year's figures are published once it has ended")
            period = year_period(years[0])
        elif start is None or end is None:
            raise NotACalendarPeriod("published figures cover a whole calendar period: give both from and to")
        else:
            period_bounds(start, end)
            period = calendar_period(start, end)
        year = int(period[:4])
        publication = await published(session, year)
    if publication is None:
        raise Problem(
            404,
            f"the figures of {year} are not published: a year's figures are published by CERT Santé once the"
            " year has ended (exact figures: an ARS or national credential)",
        )
    return publication, period


@router.get("", summary="Count declarations along one or two dimensions", responses=_ERRORS)
async def stats(
    sessions: SessionsDep,
    viewer: ViewerDep,
    group_by: Annotated[
        str, Query(description=f"one or two of: {', '.join(Dimension)} (comma-separated)", examples=["region"])
    ],
    start: Start = None,
    end: End = None,
    fmt: FormatQuery = Format.json,
    public_mode: PublicQuery = None,
) -> Response:
    """``{"total": N, "groups": [{"key": …, "count": n}]}``; for two dimensions ``key`` is a list.
    Published figures read ``"<5"`` for a count under 5, and ``"masqué"`` where a count would
    otherwise give a small one away."""
    try:
        dimensions = parse_group_by(group_by)
        exact_figures = _exact_for(viewer, public_mode)
        if exact_figures:
            period_bounds(start, end)
            async with unit_of_work(sessions) as session:
                counts = await count_declarations(session, dimensions, start, end, viewer.region)
            body = exact(counts, dimensions, viewer.region)
        else:
            publication, period = await _publication(sessions, start, end)
            body = published_view(publication, dimensions, period)
    except (Denied, InvalidQuery, InvalidPeriod, NotACalendarPeriod, NotPublishedThatWay) as error:
        raise _refusal(error) from None
    name = "-".join(d.value for d in dimensions)
    return _answer(body, stats_csv(body, dimensions), fmt, name, exact_figures)


def _whole_year(period: str) -> None:
    if "-" in period:
        raise NotPublishedThatWay("this view is published for a whole year only")


@router.get("/structures", summary="How many structures declared, and how many did so repeatedly", responses=_ERRORS)
async def structures(
    sessions: SessionsDep,
    viewer: ViewerDep,
    start: Start = None,
    end: End = None,
    fmt: FormatQuery = Format.json,
    public_mode: PublicQuery = None,
) -> Response:
    """Structures that declared, how many declared more than 2 and more than 4 times, and the whole
    distribution of declarations per structure (1, 2, 3, 4, 5 or more), so that "more than 2" can
    be read either way."""
    try:
        exact_figures = _exact_for(viewer, public_mode)
        if exact_figures:
            period_bounds(start, end)
            async with unit_of_work(sessions) as session:
                body = structures_body(await count_structures(session, start, end, viewer.region), viewer.region)
        else:
            publication, period = await _publication(sessions, start, end)
            _whole_year(period)
            body = published_structures(publication)
    except (Denied, InvalidPeriod, NotACalendarPeriod, NotPublishedThatWay) as error:
        raise _refusal(error) from None
    rows = [[figure, body[figure]] for figure in ("structures", "more_than_2", "more_than_4")]
    rows += [[f"declared_{times}", n] for times, n in body["declarations_per_structure"].items()]
    return _answer(body, to_csv(["figure", "count"], rows), fmt, "structures", exact_figures)


@router.get(
    "/delivery",
    summary="Time from declaration to the ARS notification, per region (median, p90, p99)",
    responses=_ERRORS,
)
async def delivery(
    sessions: SessionsDep,
    viewer: ViewerDep,
    start: Start = None,
    end: End = None,
    fmt: FormatQuery = Format.json,
    public_mode: PublicQuery = None,
) -> Response:
    try:
        exact_figures = _exact_for(viewer, public_mode)
        if exact_figures:
            period_bounds(start, end)
            async with unit_of_work(sessions) as session:
                rows = await delivery_times(session, start, end, viewer.region)
            groups = [
                {
                    "key": row.region,
                    "count": row.count,
                    "median_seconds": round(row.median_seconds, 3),
                    "p90_seconds": round(row.p90_seconds, 3),
                    "p99_seconds": round(row.p99_seconds, 3),
                }
                for row in rows
            ]
        else:
            publication, period = await _publication(sessions, start, end)
            _whole_year(period)
            groups = published_delivery(publication)
    except (Denied, InvalidPeriod, NotACalendarPeriod, NotPublishedThatWay) as error:
        raise _refusal(error) from None
    body = {"groups": groups, "public": not exact_figures}
    header = ["region", "count", "median_seconds", "p90_seconds", "p99_seconds"]
    csv_text = to_csv(header, [[g[h if h != "region" else "key"] for h in header] for g in groups])
    return _answer(body, csv_text, fmt, "delivery", exact_figures)


@router.get(
    "/compare", summary="This year against last year, on the same span of days, per dimension", responses=_ERRORS
)
async def compare(
    sessions: SessionsDep,
    viewer: ViewerDep,
    group_by: Annotated[str, Query(description=f"one of: {', '.join(Dimension)}")],
    year: Annotated[int | None, Query(ge=2001, le=2099, description="default: this year")] = None,
    fmt: FormatQuery = Format.json,
    public_mode: PublicQuery = None,
) -> Response:
    """Exact: this year so far against the same days of the year before. Published: a published
    year against the one before it, whole years."""
    try:
        dimensions = parse_group_by(group_by)
        if len(dimensions) != 1:
            raise InvalidQuery("compare takes one dimension")
        (dimension,) = dimensions
        exact_figures = _exact_for(viewer, public_mode)
        if exact_figures:
            today = today_in_france()
            this_start, this_end = year_span(year or today.year, today)
            last_start, last_end = same_span_a_year_before(this_start, this_end)
            async with unit_of_work(sessions) as session:
                this = await count_declarations(session, dimensions, this_start, this_end, viewer.region)
                last = await count_declarations(session, dimensions, last_start, last_end, viewer.region)
            now_view: dict[Any, Any] = {key[0]: n for key, n in this.groups}
            then_view: dict[Any, Any] = {key[0]: n for key, n in last.groups}
            totals = (this.total, last.total)
        else:
            if dimension is Dimension.month:
                raise InvalidQuery("published years are compared along a dimension other than month")
            wanted = year if year is not None else None
            this_pub, this_period = await _publication(
                sessions, *((date(wanted, 1, 1), date(wanted, 12, 31)) if wanted else (None, None))
            )
            last_year = this_pub.year - 1
            last_pub, _ = await _publication(sessions, date(last_year, 1, 1), date(last_year, 12, 31))
            this_start, this_end = date(this_pub.year, 1, 1), date(this_pub.year, 12, 31)
            last_start, last_end = date(last_year, 1, 1), date(last_year, 12, 31)
            now_body = published_view(this_pub, dimensions, this_period)
            then_body = published_view(last_pub, dimensions, year_period(last_year))
            now_view = {g["key"]: g["count"] for g in now_body["groups"]}
            then_view = {g["key"]: g["count"] for g in then_body["groups"]}
            totals = (now_body["total"], then_body["total"])
    except (Denied, InvalidQuery, InvalidPeriod, NotACalendarPeriod, NotPublishedThatWay) as error:
        raise _refusal(error) from None
    groups = []
    for key in sorted(set(now_view) | set(then_view), key=str):
        now, then = now_view.get(key, 0), then_view.get(key, 0)
        difference, percent = change(now, then)
        groups.append(
            {"key": key, "this_year": now, "last_year": then, "change": difference, "change_percent": percent}
        )
    body: dict[str, Any] = {
        "dimension": dimension.value,
        "this_year": {"from": this_start.isoformat(), "to": this_end.isoformat(), "total": totals[0]},
        "last_year": {"from": last_start.isoformat(), "to": last_end.isoformat(), "total": totals[1]},
        "groups": groups,
        "public": not exact_figures,
    }
    if exact_figures and viewer.region is not None:
        body["region"] = viewer.region
    header = ["key", "this_year", "last_year", "change", "change_percent"]
    csv_text = to_csv(header, [[g[h] for h in header] for g in groups])
    return _answer(body, csv_text, fmt, f"compare-{dimension.value}", exact_figures)


class PublicationPublic(BaseModel):
    year: int
    published_at: datetime
    published_by: str
    declarations: int
    figures: int
    hidden: int


@router.get("/publications", summary="The years whose figures are published")
async def publications(sessions: SessionsDep) -> list[int]:
    async with unit_of_work(sessions) as session:
        return await published_years(session)


@router.post(
    "/publications/{year}",
    status_code=201,
    response_model=PublicationPublic,
    summary="Publish a year's figures (CERT Santé), once it has ended; they never change after",
    responses={
        401: {"description": "No credential", **_PROBLEM},
        403: {"description": "Not a national credential", **_PROBLEM},
        409: {"description": "Published already", **_PROBLEM},
        422: {"description": "The year has not ended", **_PROBLEM},
    },
)
async def publish(year: int, sessions: SessionsDep, viewer: ViewerDep) -> PublicationPublic:
    try:
        viewer.check_exact()
        viewer.check_publish()
        async with unit_of_work(sessions) as session:
            done = await publish_year(session, year, viewer.principal or "", datetime.now(UTC))
    except Denied as error:
        raise _refusal(error) from None
    except AlreadyPublished as error:
        raise Problem(409, str(error)) from None
    except NotEnded as error:
        raise Problem(422, str(error), errors=[{"field": "year", "message": str(error), "type": "period"}]) from None
    return PublicationPublic(
        year=done.year,
        published_at=done.published_at,
        published_by=done.published_by,
        declarations=done.declarations,
        figures=len(done.figures),
        hidden=sum(isinstance(shown, str) for shown in done.figures.values()),
    )
