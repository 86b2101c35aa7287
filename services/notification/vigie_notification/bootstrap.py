"""Composition root of the notification service."""

from pathlib import Path

from fastapi import FastAPI

from vigie_kit.service import Service

from .adapters.email import EmailSender, SmtpServer
from .adapters.webhook import WebhookSender
from .config import NotificationSettings
from .entrypoints import events
from .entrypoints.deliveries import DeliveryWorker, LiveDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def smtp_server(settings: NotificationSettings) -> SmtpServer | None:
    if not settings.smtp_host:
        return None
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        ca_file=settings.smtp_ca_file,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    settings = settings or NotificationSettings()
    server = smtp_server(settings)
    # Refused here, at start-up, rather than discovered when a region's first incident is lost.
    directory = LiveDirectory(settings.recipients_file, email_enabled=server is not None)
    service = Service(settings, migrations=MIGRATIONS, channels=events.CHANNELS)
    service.consume(events.handlers(directory))
    webhooks = WebhookSender(settings.webhook_timeout_seconds)
    email = EmailSender(server) if server else None
    worker = DeliveryWorker(service, directory, webhooks, email, settings)
    service.worker(worker.run, drain=worker.drain)
    service.gauge(worker.measure)
    service.on_shutdown(webhooks.close)
    if email is not None:
        service.on_shutdown(email.close)
    return service.app(
        title="Vigie — notification",
        description="Tells every ARS and CERT Santé of each declaration, once per channel.",
    )
