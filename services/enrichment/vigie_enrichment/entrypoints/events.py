"""What the enrichment service takes from Kafka and puts there: each revision submitted, and
each revision enriched."""

from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from vigie_contracts.events import DeclarationEnriched, DeclarationSubmitted
from vigie_kit.consumer import BatchHandler, Subscription
from vigie_kit.messaging import Channels

from ..handlers import enrich

ENRICH = Subscription(
    group="enrichment.enrich",
    event_type=DeclarationSubmitted,
    description=(
        "Places each revision in the territory, links it into its campaigns, matches its "
        "indicators, rates its severity, and publishes it enriched."
    ),
)
CHANNELS = Channels(consumes=(ENRICH,), publishes=(DeclarationEnriched,))


def handlers(window: timedelta) -> Mapping[Subscription[Any], BatchHandler[Any]]:
    """``window``: how far apart two declarations may be and still belong to one campaign."""
    return {ENRICH: partial(enrich, window=window)}
