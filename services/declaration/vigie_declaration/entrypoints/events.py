"""Event subscriptions of the declaration service: it follows its declarations downstream."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import Subscription

from ..handlers import record_dispatches, record_enrichments

# A declaration's status follows what happened downstream within a fraction of a second; being
# off the path to the agencies, its consumers take their events in batches gathered that long.
STATUS_GATHER_MS = 200

ENRICHMENT_STATUS = Subscription(
    group="declaration.enrichment-status",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    batch_handler=record_enrichments,
    gather_ms=STATUS_GATHER_MS,
)
DELIVERY_STATUS = Subscription(
    group="declaration.delivery-status",
    topic=NotificationDispatched.topic,
    event_type=NotificationDispatched,
    batch_handler=record_dispatches,
    gather_ms=STATUS_GATHER_MS,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (ENRICHMENT_STATUS, DELIVERY_STATUS)
