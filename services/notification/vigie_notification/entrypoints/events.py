"""Event subscriptions of the notification service."""

from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.consumer import Subscription

from ..handlers import plan_deliveries
from .deliveries import LiveDirectory


def subscriptions(directory: LiveDirectory) -> tuple[Subscription[DeclarationEnriched], ...]:
    async def plan(session: AsyncSession, event: DeclarationEnriched) -> None:
        await plan_deliveries(session, event, directory.refresh(), email_enabled=directory.email_enabled)

    return (
        Subscription(
            group="notification.plan",
            topic=DeclarationEnriched.topic,
            event_type=DeclarationEnriched,
            handler=plan,
        ),
    )
