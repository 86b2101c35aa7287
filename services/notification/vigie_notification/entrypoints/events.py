"""Event subscriptions of the notification service."""

from functools import partial

from vigie_contracts.events import DeclarationEnriched
from vigie_kit.consumer import Subscription

from ..domain.directory import Directory
from ..handlers import plan_deliveries


def subscriptions(directory: Directory) -> tuple[Subscription[DeclarationEnriched], ...]:
    return (
        Subscription(
            group="notification.plan",
            topic=DeclarationEnriched.topic,
            event_type=DeclarationEnriched,
            handler=partial(plan_deliveries, directory=directory),
        ),
    )
