"""Event subscriptions of the stats service."""

from typing import Any

from vigie_contracts.events import CredentialChanged, DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..adapters.credentials import record_credentials
from ..handlers import record_deliveries, record_facts

# The figures are read by people, not by the pipeline: events are taken in batches gathered
# for half a second.
COUNT_GATHER_MS = 500

FACTS = Subscription(
    group="stats.facts",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    batch_handler=record_facts,
    gather_ms=COUNT_GATHER_MS,
)
DELIVERY = Subscription(
    group="stats.delivery",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    batch_handler=record_deliveries,
    gather_ms=COUNT_GATHER_MS,
)
CREDENTIALS = Subscription(
    group="stats.credentials",
    topic=CredentialChanged.topic,
    event_type=CredentialChanged,
    batch_handler=record_credentials,
)
# What the figures are made of, and what a rebuild replays; the credentials are not figures.
AGGREGATES: tuple[Subscription[Any], ...] = (FACTS, DELIVERY)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (*AGGREGATES, CREDENTIALS)
