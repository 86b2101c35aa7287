"""Event subscriptions of the stats service."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..handlers import record_deliveries, record_facts

FACTS = Subscription(
    group="stats.facts",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    batch_handler=record_facts,
)
DELIVERY = Subscription(
    group="stats.delivery",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    batch_handler=record_deliveries,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (FACTS, DELIVERY)
