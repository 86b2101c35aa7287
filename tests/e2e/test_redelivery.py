"""A redelivered event changes nothing: consumers record the events they applied in the same
transaction as their effects."""

from collections import Counter

import httpx
from aiokafka import AIOKafkaProducer

from vigie_stack.receiver import WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import read_topic, settle, wait_for_status


async def test_redelivered_events_produce_no_second_enrichment_notification_or_count(
    stack: Stack, api: httpx.AsyncClient, stats_api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    response = await api.post("/v1/declarations", json=declaration(finess=finess_in("11", 770001)))
    declaration_id, reference = response.json()["id"], response.json()["reference"]
    await wait_for_status(api, [declaration_id])
    await settle(stack)
    key = declaration_id.encode()
    stats_before = (await stats_api.get("/v1/stats", params={"group_by": "region"})).json()

    # Deliver both events of this declaration again, byte for byte, twice.
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for topic in ("declaration.submitted.v1", "declaration.enriched.v1"):
            (original,) = [r for r in await read_topic(stack, topic) if r.key == key]
            for _ in range(2):
                await producer.send_and_wait(topic, original.value, key=key, headers=list(original.headers))
    finally:
        await producer.stop()
    await settle(stack)

    enriched = Counter(r.key for r in await read_topic(stack, "declaration.enriched.v1"))
    assert enriched[key] == 3  # the original and the two redeliveries we produced, no new one
    dispatched = [r for r in await read_topic(stack, "notification.dispatched.v1") if r.key == key]
    assert len(dispatched) == 5  # one "sent" per recipient and channel, as before
    assert receiver.references("ars-idf").count(reference) == 1
    assert receiver.references("cert-sante").count(reference) == 1
    stats_after = (await stats_api.get("/v1/stats", params={"group_by": "region"})).json()
    assert stats_after == stats_before
