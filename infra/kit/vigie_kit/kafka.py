"""A service's Kafka broker: durable producer settings, and a connection that survives outages."""

import asyncio
import logging
import ssl
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import SASLScram512

from .settings import ServiceSettings

log = logging.getLogger(__name__)


class _KnownDecision(logging.Filter):
    """FastStream warns at every start that clients may not create topics: that is our choice
    (topics are provisioned with explicit settings), not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Auto create topics is disabled" not in record.getMessage()


log.addFilter(_KnownDecision())


def kafka_security(settings: ServiceSettings) -> SASLScram512 | None:
    """How to reach the brokers: None in clear, else TLS (verifying the brokers' certificates
    and host names) and SCRAM-SHA-512."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    username, password = settings.kafka_sasl_username or "", settings.kafka_sasl_password  # both checked present
    context = ssl.create_default_context(cafile=settings.kafka_ca_file)
    return SASLScram512(username, password.get_secret_value() if password else "", ssl_context=context)


def bootstrap_servers(settings: ServiceSettings) -> list[str]:
    """The brokers to start from, ``host:port`` separated by commas in the setting: any one that
    answers gives the client the whole cluster."""
    return [server.strip() for server in settings.kafka_bootstrap_servers.split(",") if server.strip()]


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """The same, for an aiokafka client of the service's own (the stats rebuild's consumer)."""
    return {"bootstrap_servers": bootstrap_servers(settings), **parse_security(kafka_security(settings))}


def make_broker(settings: ServiceSettings) -> KafkaBroker:
    """A FastStream broker whose producer waits for every in-sync replica and never duplicates
    on retry; topics are provisioned by the project, never auto-created by a client."""
    return KafkaBroker(
        bootstrap_servers(settings),
        security=kafka_security(settings),
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        compression_type="zstd",
        max_batch_size=256 * 1024,
        allow_auto_create_topics=False,
        request_timeout_ms=15_000,
        graceful_timeout=10.0,
        logger=log,
        log_level=logging.DEBUG,
    )


class BrokerConnection:
    """Starts the broker in the background and keeps trying while Kafka is away, so the
    service answers HTTP (and takes declarations into its outbox) during a broker outage."""

    def __init__(self, broker: KafkaBroker, *, retry_seconds: float = 1.0) -> None:
        self.broker = broker
        self.retry_seconds = retry_seconds
        self.ready = asyncio.Event()

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                await self.broker.start()
            except Exception as error:
                attempt += 1
                if attempt == 1 or attempt % 30 == 0:
                    log.warning("Kafka unreachable, retrying: %s", error)
                await self._stop_quietly()
                await asyncio.sleep(min(self.retry_seconds * attempt, 10.0))
            else:
                log.info("connected to Kafka")
                self.ready.set()
                return

    async def _stop_quietly(self) -> None:
        try:
            await self.broker.stop()
        except Exception:
            log.debug("broker stop after a failed start", exc_info=True)

    async def close(self) -> None:
        self.ready.clear()
        await self._stop_quietly()
