"""Topic names and settings. A name carries its schema's major version; every topic has a
dead-letter twin for the messages that cannot be processed."""

from collections.abc import Mapping
from dataclasses import dataclass, field

PARTITIONS = 6


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = PARTITIONS
    # Events are kept for good: statistics are rebuilt by replaying topics from the start,
    # and at a few thousand declarations a year this costs nothing.
    config: Mapping[str, str] = field(default_factory=lambda: {"retention.ms": "-1", "cleanup.policy": "delete"})

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlt"

    @property
    def dead_letter_config(self) -> Mapping[str, str]:
        # What could not be processed is kept whole, for people to read: never compacted.
        return {"retention.ms": "-1", "cleanup.policy": "delete"}


DECLARATION_SUBMITTED = TopicSpec("declaration.submitted.v1")
DECLARATION_ENRICHED = TopicSpec("declaration.enriched.v1")
NOTIFICATION_DISPATCHED = TopicSpec("notification.dispatched.v2")
# The latest state of each credential, for good: a service that checks credentials reads it
# from the beginning.
CREDENTIAL_CHANGED = TopicSpec("credential.changed.v1", config={"retention.ms": "-1", "cleanup.policy": "compact"})

ALL_TOPICS = (DECLARATION_SUBMITTED, DECLARATION_ENRICHED, NOTIFICATION_DISPATCHED, CREDENTIAL_CHANGED)
