"""Composition root of the notification service."""

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from vigie_kit.service import Service

from .adapters.webhook import WebhookSender, make_client
from .config import NotificationSettings
from .domain.directory import load_directory
from .entrypoints import events
from .entrypoints.deliveries import DeliveryWorker

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    # Refused here, at start-up, rather than discovered when a region's first incident is lost.
    directory = load_directory(settings.recipients_file)
    service = Service(settings, migrations=MIGRATIONS, publishes=True)
    for subscription in events.subscriptions(directory):
        service.subscribe(subscription)
    client = make_client(settings.webhook_timeout_seconds)
    HTTPXClientInstrumentor().instrument_client(client)
    worker = DeliveryWorker(service, directory, WebhookSender(client), settings)
    service.worker(worker.run, drain=worker.drain)
    service.on_shutdown(client.aclose)
    return service.app(
        title="Vigie — notification",
        description="Tells every ARS and CERT Santé of each declaration, once per channel.",
    )
