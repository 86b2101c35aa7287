"""While Kafka is down the intake keeps answering 202, the services say they are not ready and
the outbox backlog shows in the metrics; once it is back, the outbox publishes every declaration
exactly once."""

import asyncio
from collections import Counter

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import read_topic, scalar, scrape, settle, total, wait_for_status, wait_readiness


async def test_declarations_taken_during_a_broker_outage_are_published_once_it_is_back(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await settle(stack)
    await asyncio.to_thread(stack.kafka.stop)
    ids: list[str] = []
    try:
        for n in range(10):
            response = await api.post("/v1/declarations", json=declaration(finess=finess_in("24", 760000 + n)))
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        waiting = await scalar(stack, "declaration", "SELECT count(*) FROM outbox")
        assert waiting == 10
        metrics = await scrape(stack, "declaration")
        assert total(metrics, "vigie_outbox_backlog_messages") == 10
        assert total(metrics, "vigie_outbox_oldest_age_seconds") > 0
        await wait_readiness(stack, ready=False, missing="kafka")
        for declaration_id in ids:
            assert (await api.get(f"/v1/declarations/{declaration_id}")).json()["status"] == "received"
    finally:
        await asyncio.to_thread(stack.kafka.start)
    await wait_readiness(stack, ready=True, timeout=60)

    await wait_for_status(api, ids, timeout=120)
    await settle(stack)
    published = Counter(
        record.key.decode() for record in await read_topic(stack, "declaration.submitted.v1") if record.key is not None
    )
    assert {declaration_id: published[declaration_id] for declaration_id in ids} == dict.fromkeys(ids, 1)
