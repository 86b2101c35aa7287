"""What the stats service takes from Kafka: each revision enriched, what came of its
deliveries, and each credential change. It publishes nothing."""

from collections.abc import Mapping
from typing import Any

from vigie_contracts.events import CredentialChanged, DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import BatchHandler, Subscription
from vigie_kit.messaging import Channels

from ..adapters.credentials import record_credentials
from ..handlers import record_deliveries, record_facts

# The figures are read by people, not by the pipeline: events are taken in batches gathered
# for half a second.
COUNT_GATHER_MS = 500

FACTS = Subscription(
    group="stats.facts",
    event_type=DeclarationEnriched,
    description="Counts each declaration once, with the values of its latest revision.",
    gather_ms=COUNT_GATHER_MS,
)
DELIVERY = Subscription(
    group="stats.delivery",
    event_type=NotificationDispatched,
    description="Keeps when the region's ARS was first told of each declaration, whatever the channel.",
    gather_ms=COUNT_GATHER_MS,
)
CREDENTIALS = Subscription(
    group="stats.credentials",
    event_type=CredentialChanged,
    description="Keeps the latest state of each ARS and national credential, to check who reads which figures.",
)
CHANNELS = Channels(consumes=(FACTS, DELIVERY, CREDENTIALS))
HANDLERS: Mapping[Subscription[Any], BatchHandler[Any]] = {
    FACTS: record_facts,
    DELIVERY: record_deliveries,
    CREDENTIALS: record_credentials,
}
# What the figures are made of, and what a rebuild replays; the credentials are not figures.
AGGREGATES: tuple[Subscription[Any], ...] = (FACTS, DELIVERY)
