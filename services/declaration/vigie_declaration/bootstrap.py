"""Composition root of the declaration service: real adapters wired onto the kit's runtime."""

from pathlib import Path

from fastapi import FastAPI

from vigie_contracts.declaration import DeclarationContent
from vigie_kit.db import GroupCommit, driver
from vigie_kit.errors import is_transient
from vigie_kit.http import document
from vigie_kit.service import Service

from .config import DeclarationSettings
from .domain.revision import RevisionCreate
from .entrypoints import events, http
from .entrypoints.admission import IntakeAdmission
from .entrypoints.metrics import IntakeMetrics
from .entrypoints.ratelimit import RateLimiter
from .handlers import submit_declarations

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: DeclarationSettings | None = None) -> FastAPI:
    settings = settings or DeclarationSettings()
    service = Service(settings, migrations=MIGRATIONS, channels=events.CHANNELS)
    service.consume(events.HANDLERS)
    app = service.app(
        title="Vigie — déclarations",
        description=(
            "Intake of cybersecurity incident declarations from health and medico-social "
            "structures. Every request carries `Authorization: Bearer <secret>`; errors are "
            "`application/problem+json`."
        ),
    )
    app.state.rate_limiter = RateLimiter(settings.rate_per_minute)
    # Declarations arriving together are written in one transaction; one the database refuses
    # (an Idempotency-Key another instance used meanwhile) is written again alone.
    app.state.intake = GroupCommit(
        lambda: driver(service.engine), submit_declarations, alone=lambda error: not is_transient(error)
    )
    app.include_router(http.router)
    app.add_middleware(
        IntakeAdmission,
        max_body_bytes=settings.max_body_bytes,
        body_seconds=settings.body_seconds,
        limit=settings.intake_in_progress,
        waiting=settings.intake_waiting,
        wait_seconds=settings.intake_wait_seconds,
    )
    app.add_middleware(IntakeMetrics)  # outermost: it counts the admission's refusals too
    document(app, DeclarationContent, RevisionCreate)
    return app
