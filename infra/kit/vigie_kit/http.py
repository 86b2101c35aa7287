"""HTTP basics shared by the services: problem+json errors (RFC 9457) and health endpoints."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from .db import Sessions
from .errors import OUTAGES, is_transient

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# A dependency that does not answer within this is as unavailable as one that refuses.
_CHECK_SECONDS = 2.0


async def _service_sessions(request: Request) -> Sessions:
    # A coroutine: FastAPI runs a plain function dependency in a worker thread, at a cost.
    sessions: Sessions = request.app.state.service.sessions
    return sessions


SessionsDep = Annotated[Sessions, Depends(_service_sessions)]
"""The database sessions of the service answering the request."""


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


class ProblemDocument(BaseModel):
    """An error, as RFC 9457 describes it; ``errors`` names each invalid field and why."""

    model_config = ConfigDict(title="Problem", extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return ProblemResponse(body, status_code=status, headers=headers)


class Problem(Exception):
    """Raise from a route to answer with a problem+json document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title
        self.headers = headers
        self.extra = extra

    def response(self) -> ProblemResponse:
        return problem(self.status, self.detail, title=self.title, headers=self.headers, **self.extra)


def field_path(location: Iterable[int | str]) -> str:
    """``("body", "indicators", 2, "value")`` → ``indicators[2].value``."""
    path = ""
    for part in location:
        if part in ("body", "query", "path", "header") and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(body)"


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    return [
        {
            "field": field_path(error.get("loc", ())),
            "message": _message(error),
            "type": error.get("type", ""),
        }
        for error in errors
    ]


def validation_problem(error: ValidationError | RequestValidationError, what: str) -> Problem:
    """A 422 problem naming each invalid field and why."""
    errors = field_errors(error.errors())
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return Problem(
        422,
        f"{what}: {len(errors)} invalid field{'s' if len(errors) > 1 else ''} ({names})",
        title="Invalid request",
        errors=errors,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, Problem)
        return error.response()

    async def on_validation(_: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, RequestValidationError)
        return validation_problem(error, "the request is invalid").response()

    async def on_http(_: Request, error: Exception) -> ProblemResponse:
        assert isinstance(error, HTTPException)
        return problem(error.status_code, str(error.detail), headers=dict(error.headers or {}))

    async def on_disconnect(request: Request, _: Exception) -> ProblemResponse:
        # Nobody is left to read the answer; nothing was recorded, and nothing is wrong here.
        log.info("%s %s: the client hung up before sending its whole request", request.method, request.url.path)
        return problem(400, "the request ended before its body was complete; nothing was recorded")

    async def on_unexpected(request: Request, error: Exception) -> ProblemResponse:
        if is_transient(error):
            log.warning("%s %s: the database is unreachable (%s)", request.method, request.url.path, error)
            return problem(
                503,
                "the service cannot reach its database right now; nothing was recorded, try again",
                headers={"Retry-After": "5"},
            )
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        return problem(500, "an unexpected error occurred; nothing was recorded for this request")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    # The errors of an unreachable database or broker, by their classes: answered here, where
    # the answer is the end of it. A handler of Exception alone answers too, but the server then
    # logs the error again with its traceback, as if nothing had handled it.
    for kind in OUTAGES:
        app.add_exception_handler(kind, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)


def document(app: FastAPI, *models: type[BaseModel]) -> None:
    """Complete the app's OpenAPI document: the problem+json schema in place of FastAPI's own
    validation error (which this API never sends), and the schemas of bodies read by hand."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        documented: list[type[BaseModel]] = [ProblemDocument, *models]
        for model in documented:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in definition.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components.setdefault(definition.get("title", model.__name__), definition)
        problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None and "application/json" in invalid.get("content", {}):
                    invalid["content"] = problem_content
                    invalid["description"] = "Invalid request, each bad field named"
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


Check = Callable[[], Awaitable[bool]]


def health_router(checks: dict[str, Check], serving: Callable[[], bool] = lambda: True) -> APIRouter:
    """``/health/live``: the process answers. ``/health/serving``: it takes requests (a load
    balancer's check: ``503`` once it drains, before it stops). ``/health/ready``: every dependency
    answers."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/serving", responses={503: {"description": "draining: about to stop"}})
    async def serving_now() -> JSONResponse:
        if serving():
            return JSONResponse({"status": "serving"})
        return JSONResponse({"status": "draining"}, status_code=503)

    @router.get("/ready", responses={503: {"description": "a dependency is unreachable"}})
    async def ready() -> JSONResponse:
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await asyncio.wait_for(check(), _CHECK_SECONDS)
            except Exception:
                results[name] = False
        ok = all(results.values())
        return JSONResponse(
            {"status": "ready" if ok else "unavailable", "checks": results},
            status_code=200 if ok else 503,
        )

    return router
