"""Composition root of the declaration service: real adapters wired onto the kit's runtime."""

from pathlib import Path

from fastapi import FastAPI

from vigie_kit.service import Service

from .config import DeclarationSettings
from .entrypoints import events, http

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: DeclarationSettings | None = None) -> FastAPI:
    service = Service(settings or DeclarationSettings(), migrations=MIGRATIONS, publishes=True)
    for subscription in events.SUBSCRIPTIONS:
        service.subscribe(subscription)
    app = service.app(
        title="Vigie — déclarations",
        description="Intake of cybersecurity incident declarations from health structures.",
    )
    app.include_router(http.router)
    return app
