"""What the declaration service takes from Kafka and puts there: it publishes each revision and
each credential change, and follows its declarations downstream."""

from collections.abc import Mapping
from typing import Any

from vigie_contracts.events import CredentialChanged, DeclarationEnriched, DeclarationSubmitted, NotificationDispatched
from vigie_kit.consumer import BatchHandler, Subscription
from vigie_kit.messaging import Channels

from ..handlers import record_dispatches, record_enrichments

# A declaration's status follows what happened downstream within a fraction of a second; being
# off the path to the agencies, its consumers take their events in batches gathered that long.
STATUS_GATHER_MS = 200

ENRICHMENT_STATUS = Subscription(
    group="declaration.enrichment-status",
    event_type=DeclarationEnriched,
    description="Keeps what enrichment concluded on each declaration, and decides its status again.",
    gather_ms=STATUS_GATHER_MS,
)
DELIVERY_STATUS = Subscription(
    group="declaration.delivery-status",
    event_type=NotificationDispatched,
    description="Keeps the latest outcome of each delivery, and decides the declaration's status again.",
    gather_ms=STATUS_GATHER_MS,
)
CHANNELS = Channels(
    consumes=(ENRICHMENT_STATUS, DELIVERY_STATUS),
    publishes=(DeclarationSubmitted, CredentialChanged),
)
HANDLERS: Mapping[Subscription[Any], BatchHandler[Any]] = {
    ENRICHMENT_STATUS: record_enrichments,
    DELIVERY_STATUS: record_dispatches,
}
