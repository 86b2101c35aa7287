"""Settings of the notification service (``VIGIE_*`` environment variables)."""

from pathlib import Path

from vigie_kit.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    database_url: str = "postgresql+asyncpg://vigie_notification@127.0.0.1:15432/vigie_notification"
    http_port: int = 8102
    # The recipients directory (ARS, CERT Santé): channels and signing secrets. Written at
    # set-up into the state folder, never into the repository.
    recipients_file: Path = Path(".state/dev/recipients.json")
    webhook_timeout_seconds: float = 5.0
    # Retries: exponential backoff with full jitter, from durable state in the ledger.
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    max_attempts: int = 8
    # A delivery claimed by a worker that then died is retried once this lease has expired.
    delivery_lease_seconds: float = 60.0
    delivery_concurrency: int = 50
