"""Composition root of the stats service."""

from pathlib import Path

from fastapi import FastAPI

from vigie_kit.service import Service

from .config import StatsSettings
from .entrypoints import dashboard, events, http, signin

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: StatsSettings | None = None) -> FastAPI:
    service = Service(settings or StatsSettings(), migrations=MIGRATIONS, channels=events.CHANNELS)
    service.consume(events.HANDLERS)
    app = service.app(
        title="Vigie — observatoire",
        description="National statistics of health-sector cybersecurity incident declarations.",
    )
    app.include_router(http.router)
    app.include_router(dashboard.router)
    app.include_router(signin.router)
    return app
