"""How deliveries are identified and when a failed one is tried again."""

import random
from enum import StrEnum
from uuid import UUID, uuid5

_DELIVERY_NAMESPACE = UUID("9b0a3c4e-5f1d-4e8a-9c41-6d2b7e0f8a13")


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    retrying = "retrying"
    failed = "failed"


def delivery_id(declaration_id: UUID, revision: int, recipient_code: str, channel: str) -> UUID:
    """One id per declaration revision, recipient and channel: the exactly-once key, sent to
    the receiver as ``Vigie-Event-Id`` so that an ambiguous send is deduplicated there."""
    return uuid5(_DELIVERY_NAMESPACE, f"{declaration_id}/{revision}/{recipient_code}/{channel}")


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: exponential backoff, jittered between half and
    all of it, so that deliveries failing together do not all come back together."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
