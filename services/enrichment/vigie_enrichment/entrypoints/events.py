"""Event subscriptions of the enrichment service."""

from datetime import timedelta
from functools import partial
from typing import Any

from vigie_contracts.events import DeclarationSubmitted
from vigie_kit.consumer import Subscription

from ..handlers import enrich


def subscriptions(window: timedelta) -> tuple[Subscription[Any], ...]:
    return (
        Subscription(
            group="enrichment.enrich",
            topic=DeclarationSubmitted.topic,
            event_type=DeclarationSubmitted,
            batch_handler=partial(enrich, window=window),
        ),
    )
