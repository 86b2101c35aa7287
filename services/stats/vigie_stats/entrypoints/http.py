"""HTTP API of the stats service."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from vigie_kit.db import Sessions, unit_of_work
from vigie_kit.http import PROBLEM_JSON, Problem
from vigie_kit.periods import InvalidPeriod

from ..domain.dimensions import Dimension, InvalidQuery, parse_group_by
from ..handlers import count_declarations

router = APIRouter(prefix="/v1/stats", tags=["statistics"])


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.service.sessions
    return sessions


SessionsDep = Annotated[Sessions, Depends(_sessions)]


class Group(BaseModel):
    key: Any
    count: int


class Stats(BaseModel):
    total: int
    groups: list[Group]


@router.get(
    "",
    response_model=Stats,
    summary="Count declarations along one or two dimensions",
    responses={422: {"description": "Unknown dimension or bad period", "content": {PROBLEM_JSON: {}}}},
)
async def stats(
    sessions: SessionsDep,
    group_by: Annotated[
        str,
        Query(
            description=f"one or two of: {', '.join(Dimension)} (comma-separated)",
            examples=["region"],
        ),
    ],
    start: Annotated[date | None, Query(alias="from", description="first day, inclusive")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
) -> Stats:
    try:
        dimensions = parse_group_by(group_by)
        async with unit_of_work(sessions) as session:
            counts = await count_declarations(session, dimensions, start, end)
    except InvalidQuery as error:
        raise Problem(422, str(error)) from None
    except InvalidPeriod as error:
        raise Problem(
            422,
            str(error),
            errors=[{"field": error.field, "message": error.reason, "type": "period"}],
        ) from None
    return Stats(
        total=counts.total,
        groups=[Group(key=key[0] if len(dimensions) == 1 else list(key), count=count) for key, count in counts.groups],
    )
