"""Event subscriptions of the declaration service: it follows its declarations downstream."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..handlers import record_dispatches, record_enrichments

ENRICHMENT_STATUS = Subscription(
    group="declaration.enrichment-status",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    batch_handler=record_enrichments,
)
DELIVERY_STATUS = Subscription(
    group="declaration.delivery-status",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    batch_handler=record_dispatches,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (ENRICHMENT_STATUS, DELIVERY_STATUS)
