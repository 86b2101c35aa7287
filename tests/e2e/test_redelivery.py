"""A redelivered event changes nothing: consumers record the events they applied in the same
transaction as their effects."""

import asyncio
from collections import Counter
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaProducer

from vigie_contracts.events import (
    Channel,
    DeliveryOutcome,
    DispatchedData,
    NotificationDispatched,
    Outcome,
    Recipient,
    RecipientKind,
)
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
    dispatched = [
        NotificationDispatched.model_validate_json(r.value or b"")
        for r in await read_topic(stack, NotificationDispatched.topic.name)
        if r.key == key
    ]
    told = [(d.recipient.code, d.channel, d.outcome) for event in dispatched for d in event.data.deliveries]
    assert len(told) == len(set(told)) == 7  # one "sent" per recipient and channel, as before
    assert {outcome for _, _, outcome in told} == {Outcome.sent}
    assert receiver.references("ars-idf").count(reference) == 1
    assert receiver.references("cert-sante").count(reference) == 1
    stats_after = (await stats_api.get("/v1/stats", params={"group_by": "region"})).json()
    assert stats_after == stats_before


async def test_outcomes_of_one_delivery_arriving_together_and_out_of_order_keep_the_latest_attempt(
    stack: Stack, api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    response = await api.post("/v1/declarations", json=declaration(finess=finess_in("11", 770002)))
    declaration_id, reference = response.json()["id"], response.json()["reference"]
    await wait_for_status(api, [declaration_id])
    await settle(stack)

    # A third, made-up delivery to CERT Santé: its second attempt succeeded, and a late copy of
    # its first (failed) attempt comes in after it, in the same batch as the success.
    delivery_id = uuid4()

    def outcome(attempt: int, result: Outcome, minute: int) -> NotificationDispatched:
        at = datetime(2026, 11, 23, 10, minute, tzinfo=UTC)
        return NotificationDispatched(
            event_id=uuid4(),
            occurred_at=at,
            producer="notification",
            declaration_id=UUID(declaration_id),
            data=DispatchedData(
                reference=reference,
                revision=1,
                deliveries=[
                    DeliveryOutcome(
                        delivery_id=delivery_id,
                        recipient=Recipient(kind=RecipientKind.cert_sante, code="cert-sante", name="CERT Santé"),
                        channel=Channel.webhook,
                        outcome=result,
                        attempt=attempt,
                        at=at,
                        error=None if result is Outcome.sent else "HTTP 503",
                    )
                ],
            ),
        )

    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all", linger_ms=50)
    await producer.start()
    try:
        events = (outcome(1, Outcome.retrying, 1), outcome(2, Outcome.sent, 2), outcome(1, Outcome.retrying, 1))
        topic, key = NotificationDispatched.topic.name, declaration_id.encode()
        sent = [await producer.send(topic, event.model_dump_json().encode(), key=key) for event in events]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    await settle(stack)

    state = (await national_api.get(f"/v1/declarations/{declaration_id}")).json()
    (made_up,) = [n for n in state["notifications"] if n["at"].startswith("2026-11-23T10:0")]
    assert (made_up["attempt"], made_up["outcome"], made_up["error"]) == (2, "sent", None)
    seen = [t["what"] for t in state["timeline"] if t["detail"].get("recipient") == "cert-sante"]
    assert seen.count("notification retrying") == 2
    assert state["status"] == "notified"
