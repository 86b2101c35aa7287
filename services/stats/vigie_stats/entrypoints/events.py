"""Event subscriptions of the stats service."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..handlers import record_delivery, record_fact

FACTS = Subscription(
    group="stats.facts",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    handler=record_fact,
)
DELIVERY = Subscription(
    group="stats.delivery",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    handler=record_delivery,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (FACTS, DELIVERY)
