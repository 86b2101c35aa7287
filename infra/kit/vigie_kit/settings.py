"""Service settings from the environment (``VIGIE_*``), with defaults that run the local stack."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore")

    service_name: str
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # How the service reaches Kafka: SASL_SSL (TLS, SCRAM-SHA-512 authentication) wherever the
    # brokers are not on this machine; the CA file names the authorities that sign the brokers'
    # certificates (default: the system's).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ca_file: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int
    # Which process of the service this is, when several run (in logs and spans).
    instance: str | None = None
    # On SIGTERM, how long the process goes on answering while it says it no longer serves
    # (``/health/serving``: 503) before it stops accepting and finishes what is under way: long
    # enough for a load balancer's health check to take it out (a few check intervals).
    drain_seconds: float = Field(default=0.0, ge=0.0, le=60.0)
    log_level: str = "INFO"
    # Size of the SQLAlchemy connection pool; each service is one process on a small box.
    database_pool_size: int = 10
    # How many Kafka records a consumer takes at once, and how long it waits to fill a batch.
    consumer_max_records: int = 500
    consumer_batch_timeout_ms: int = 50
    # Failed authentications one client address may make at once before it must wait (429); as
    # many are given back over a minute.
    failed_authentications_per_minute: int = Field(default=10, ge=1)
    # SHA-256 (hex) of the token the operators' scraper sends for /metrics; without it, /metrics
    # serves nobody.
    metrics_token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _sasl_needs_a_user(self) -> "ServiceSettings":
        if self.kafka_security_protocol == "SASL_SSL" and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError("VIGIE_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs VIGIE_KAFKA_SASL_USERNAME and _PASSWORD")
        return self

    # Outbox relay: rows per Kafka round trip, and the fallback poll when no NOTIFY arrives.
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = 1.0
