"""Topic provisioning: every contract topic and its dead-letter twin, with explicit partitions
and settings. Creating is idempotent; an existing topic with fewer partitions is an error, since
adding partitions would reshuffle which partition a declaration's events land on."""

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from vigie_contracts.topics import ALL_TOPICS


def wanted_topics(replication_factor: int, min_insync_replicas: int) -> list[NewTopic]:
    topics = []
    for spec in ALL_TOPICS:
        for name, config in ((spec.name, spec.config), (spec.dead_letter, spec.dead_letter_config)):
            settings = {**config, "min.insync.replicas": str(min_insync_replicas)}
            topics.append(NewTopic(name, spec.partitions, replication_factor, topic_configs=settings))
    return topics


async def provision_topics(
    bootstrap: str,
    *,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> list[str]:
    """Create the missing topics; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = wanted_topics(replication_factor, min_insync_replicas)
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            response = await admin.create_topics(missing)
            for name, code, message in getattr(response, "topic_errors", []):
                if code not in (0, TopicAlreadyExistsError.errno):
                    raise RuntimeError(f"cannot create topic {name}: error {code} {message}")
        await _check_partitions(admin, wanted)
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def _check_partitions(admin: AIOKafkaAdminClient, wanted: list[NewTopic]) -> None:
    for _ in range(50):
        described = await admin.describe_topics([topic.name for topic in wanted])
        counts = {d["topic"]: len(d["partitions"]) for d in described if d["error_code"] == 0}
        if len(counts) == len(wanted):
            break
        await asyncio.sleep(0.1)
    for topic in wanted:
        have = counts.get(topic.name)
        if have is not None and have < topic.num_partitions:
            raise RuntimeError(f"topic {topic.name} has {have} partitions, {topic.num_partitions} wanted")


async def partitions_of(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]
    finally:
        await admin.close()


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    """Where each partition of ``topics`` ends now."""
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
