"""Event subscriptions of the enrichment service."""

from typing import Any

from vigie_contracts.events import DeclarationSubmitted
from vigie_kit.consumer import Subscription

from ..handlers import enrich

ENRICH = Subscription(
    group="enrichment.enrich",
    topic=DeclarationSubmitted.topic,
    event_type=DeclarationSubmitted,
    handler=enrich,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (ENRICH,)
