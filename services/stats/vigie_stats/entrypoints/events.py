"""Event subscriptions of the stats service."""

from typing import Any

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.consumer import Subscription

from ..handlers import record_fact

FACTS = Subscription(
    group="stats.facts",
    topic=DeclarationEnriched.topic,
    event_type=DeclarationEnriched,
    handler=record_fact,
)
SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (FACTS,)
