"""Settings of the notification service (``VIGIE_*`` environment variables)."""

from pathlib import Path

from pydantic import SecretStr

from vigie_kit.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    database_url: str = "postgresql+asyncpg://vigie_notification@127.0.0.1:15432/vigie_notification"
    http_port: int = 8102
    # The recipients directory (ARS, CERT Santé): channels and signing secrets. Written at
    # set-up into the state folder, never into the repository.
    recipients_file: Path = Path(".state/dev/recipients.json")
    webhook_timeout_seconds: float = 5.0
    # Retries: exponential backoff with jitter, from durable state in the ledger. Sixteen attempts
    # ride out an agency's outage of 39 to 77 minutes (RELIABILITY.md) before a delivery is
    # dead-lettered and waits for `deliveries replay`.
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 600.0
    max_attempts: int = 16
    # A delivery claimed by a worker that then died is retried once this lease has expired.
    delivery_lease_seconds: float = 60.0
    delivery_concurrency: int = 50
    # The outcomes of a revision's deliveries, sent at once, are recorded together, so that one
    # event tells them all; a slow one holds the others' record back at most this long.
    record_together_seconds: float = 0.25
    # One recipient never holds up the others: at most this many sends to it at once, and after
    # this many failures in a row its channel rests, then one send probes it: the first rest is
    # breaker_probe_seconds, each failed probe doubles it, up to breaker_cooldown_seconds.
    per_recipient_concurrency: int = 4
    breaker_failures: int = 5
    breaker_probe_seconds: float = 1.0
    breaker_cooldown_seconds: float = 30.0
    # E-mail: off unless an SMTP server is configured.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "vigie@sante.gouv.fr"
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: float = 10.0
