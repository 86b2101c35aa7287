"""Composition root of the enrichment service."""

from pathlib import Path

from fastapi import FastAPI

from vigie_kit.service import Service

from .config import EnrichmentSettings
from .entrypoints import events

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: EnrichmentSettings | None = None) -> FastAPI:
    service = Service(settings or EnrichmentSettings(), migrations=MIGRATIONS, publishes=True)
    for subscription in events.SUBSCRIPTIONS:
        service.subscribe(subscription)
    return service.app(
        title="Vigie — enrichissement",
        description="Places each declaration in the territory and attaches threat context.",
    )
