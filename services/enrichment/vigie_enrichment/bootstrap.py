"""Composition root of the enrichment service."""

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from vigie_kit.service import Service

from .config import EnrichmentSettings
from .entrypoints import events

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: EnrichmentSettings | None = None) -> FastAPI:
    settings = settings or EnrichmentSettings()
    service = Service(settings, migrations=MIGRATIONS, channels=events.CHANNELS)
    service.consume(events.handlers(timedelta(days=settings.campaign_window_days)))
    return service.app(
        title="Vigie — enrichissement",
        description="Places each declaration in the territory and attaches threat context.",
    )
