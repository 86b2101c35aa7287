"""What the notification service takes from Kafka and puts there: each revision enriched, and
what came of telling its recipients."""

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from vigie_contracts.events import DeclarationEnriched, NotificationDispatched
from vigie_kit.consumer import BatchHandler, Subscription
from vigie_kit.messaging import Channels

from ..handlers import plan_deliveries
from .deliveries import LiveDirectory

PLAN = Subscription(
    group="notification.plan",
    event_type=DeclarationEnriched,
    description="Plans one delivery per recipient and channel of each revision: its ARS, CERT Santé and the HFDS.",
)
CHANNELS = Channels(consumes=(PLAN,), publishes=(NotificationDispatched,))


def handlers(directory: LiveDirectory) -> Mapping[Subscription[Any], BatchHandler[Any]]:
    """Deliveries are planned from the recipients directory as it is when their event comes."""

    async def plan(connection: asyncpg.Connection, events: Sequence[DeclarationEnriched]) -> None:
        await plan_deliveries(connection, events, directory.refresh(), email_enabled=directory.email_enabled)

    return {PLAN: plan}
