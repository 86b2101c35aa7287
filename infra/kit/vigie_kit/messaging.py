"""A service's channels on Kafka, declared once with FastStream: what it consumes (a batch
subscriber typed by its contract for each subscription, with the publisher of its dead-letter
topic) and what it produces (a publisher for each topic, through which its outbox relay
publishes). The same declarations run the service and make the AsyncAPI document of
``contracts/``."""

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_contracts.events import BaseEnvelope

from .consumer import BatchHandler, BatchProcessor, NotBound, Subscription, subscribe


@dataclass(frozen=True)
class Channels:
    """What a service takes from Kafka, and the events it puts there (through its outbox)."""

    consumes: tuple[Subscription[Any], ...] = ()
    publishes: tuple[type[BaseEnvelope], ...] = ()


class UndeclaredTopic(LookupError):
    """An event for a topic its service does not declare it publishes: a defect, caught by the
    tests, never a message sent where nobody documented one goes."""


class Messaging:
    def __init__(
        self,
        broker: KafkaBroker,
        channels: Channels,
        engine: Callable[[], AsyncEngine],
        *,
        max_records: int = 500,
        batch_timeout_ms: int = 50,
    ) -> None:
        self.broker = broker
        self.publishers: dict[str, DefaultPublisher] = {
            event.topic.name: broker.publisher(
                event.topic.name, schema=event, title=event.topic.name, description=_summary(event)
            )
            for event in channels.publishes
        }
        self.processors: dict[str, BatchProcessor[Any]] = {
            subscription.group: subscribe(
                broker, subscription, engine, max_records=max_records, batch_timeout_ms=batch_timeout_ms
            )
            for subscription in channels.consumes
        }

    def bind(self, handlers: Mapping[Subscription[Any], BatchHandler[Any]]) -> None:
        """Give each declared subscription its handler: all of them, and nothing else."""
        given = {subscription.group for subscription in handlers}
        if given != set(self.processors):
            raise NotBound(f"handlers are given for {sorted(given)}, the service declares {sorted(self.processors)}")
        for subscription, handler in handlers.items():
            self.processors[subscription.group].handler = handler

    def unbound(self) -> list[str]:
        return sorted(group for group, processor in self.processors.items() if processor.handler is None)

    def publisher(self, topic: str) -> DefaultPublisher:
        try:
            return self.publishers[topic]
        except KeyError:
            raise UndeclaredTopic(
                f"an event for {topic}, which this service does not declare it publishes ({sorted(self.publishers)})"
            ) from None


def _summary(event: type[BaseEnvelope]) -> str:
    return (inspect.getdoc(event) or event.__name__).split("\n\n")[0].replace("\n", " ")


def asyncapi_document(services: Mapping[str, Channels], *, description: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every service's channels, declared as the services declare
    them: channels are named by topic for a producer, by consumer group for a consumer."""
    broker = KafkaBroker(
        "127.0.0.1:19092",
        description=(
            "The local stack's broker (vigie-stack up); elsewhere the brokers named by"
            " VIGIE_KAFKA_BOOTSTRAP_SERVERS, over SASL_SSL."
        ),
    )
    for channels in services.values():
        Messaging(broker, channels, _documentation_only)
    specification = AsyncAPI(broker, title="Vigie — events", version="1", description=description)
    document: dict[str, Any] = json.loads(specification.to_specification().to_json())
    return document


def _documentation_only() -> AsyncEngine:
    raise NotBound("declared to be documented, not run")
