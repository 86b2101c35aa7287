"""Event subscriptions of the notification service."""

from collections.abc import Sequence

import asyncpg

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.consumer import Subscription

from ..handlers import plan_deliveries
from .deliveries import LiveDirectory


def subscriptions(directory: LiveDirectory) -> tuple[Subscription[DeclarationEnriched], ...]:
    async def plan(connection: asyncpg.Connection, events: Sequence[DeclarationEnriched]) -> None:
        await plan_deliveries(connection, events, directory.refresh(), email_enabled=directory.email_enabled)

    return (
        Subscription(
            group="notification.plan",
            topic=DeclarationEnriched.topic,
            event_type=DeclarationEnriched,
            batch_handler=plan,
        ),
    )
