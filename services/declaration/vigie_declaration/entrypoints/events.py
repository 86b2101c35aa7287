"""Event subscriptions of the declaration service: it follows its declarations downstream."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..handlers import record_dispatch, record_enrichment

ENRICHMENT_STATUS = Subscription(
    group="declaration.enrichment-status",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    handler=record_enrichment,
)
DELIVERY_STATUS = Subscription(
    group="declaration.delivery-status",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    handler=record_dispatch,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (ENRICHMENT_STATUS, DELIVERY_STATUS)
