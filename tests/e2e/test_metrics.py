"""Prometheus scrapes every service after a flow and reads what happened: the counts match what
the test did, and the gauges match what the databases and the broker say."""

from collections import Counter, defaultdict
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer

from vigie_stack.config import SERVICES
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import GROUPS, Samples, scalar, scrape, settle, total, wait_for_status


async def scrape_all(stack: Stack) -> dict[str, Samples]:
    return {service: await scrape(stack, service) for service in SERVICES}


async def test_metrics_count_the_flow(stack: Stack, api: httpx.AsyncClient) -> None:
    await settle(stack)
    before = await scrape_all(stack)

    # Four declarations in Brittany (region 53), one of them sent twice with the same Idempotency-Key.
    ids = []
    for n in range(4):
        body = declaration(finess=finess_in("53", 790000 + n))
        response = await api.post(
            "/v1/declarations",
            json=body,
            headers={"Idempotency-Key": f"metrics-{uuid4()}"} if n else {},
        )
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
        if n == 1:
            replay = await api.post(
                "/v1/declarations",
                json=body,
                headers={"Idempotency-Key": response.request.headers["Idempotency-Key"]},
            )
            assert replay.headers.get("Idempotent-Replayed") == "true"
    # Refusals, each for its own reason.
    assert (await api.post("/v1/declarations", json={"structure": {}})).status_code == 422
    malformed = await api.post("/v1/declarations", content=b"{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    anonymous = await httpx.AsyncClient(base_url=str(api.base_url)).post("/v1/declarations", json={})
    assert anonymous.status_code == 401
    # And one message that cannot be read, straight onto the topic enrichment consumes.
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("declaration.submitted.v1", b"\x00 not an event", key=b"metrics-poison")
    finally:
        await producer.stop()

    await wait_for_status(api, ids)
    await settle(stack)
    after = await scrape_all(stack)
    states = {i: (await api.get(f"/v1/declarations/{i}")).json() for i in ids}

    def delta(service: str, name: str, **labels: str) -> float:
        return total(after[service], name, **labels) - total(before[service], name, **labels)

    # The intake: accepted, replayed and refused by reason.
    assert delta("declaration", "vigie_declarations_accepted_total", kind="declaration") == 4
    assert delta("declaration", "vigie_declarations_replayed_total", kind="declaration") == 1
    refused = {
        reason: delta("declaration", "vigie_declarations_rejected_total", kind="declaration", reason=reason)
        for reason in ("invalid", "malformed", "unauthenticated", "forbidden", "rate_limited")
    }
    assert refused == {"invalid": 1, "malformed": 1, "unauthenticated": 1, "forbidden": 0, "rate_limited": 0}

    # Each hop: published by the outbox, processed by the next group, timed per handler.
    assert delta("declaration", "vigie_outbox_published_total", topic="declaration.submitted.v1") == 4
    assert delta("enrichment", "vigie_events_processed_total", consumer="enrichment.enrich") == 4
    assert delta("enrichment", "vigie_event_handler_duration_seconds_count", consumer="enrichment.enrich") == 4
    assert delta("enrichment", "vigie_event_handler_duration_seconds_sum", consumer="enrichment.enrich") > 0
    enriched = delta("enrichment", "vigie_outbox_published_total", topic="declaration.enriched.v1")
    assert enriched >= 4  # more when a declaration joins a campaign and its fellows are republished
    for group in ("notification.plan", "stats.facts", "declaration.enrichment-status"):
        service = group.split(".")[0]
        assert delta(service, "vigie_events_processed_total", consumer=group) == enriched, group
    assert delta("enrichment", "vigie_messages_dead_lettered_total", consumer="enrichment.enrich") == 1

    # Deliveries by recipient, channel and outcome: as the declarations themselves tell them.
    told: Counter[tuple[str, str]] = Counter(
        (notification["recipient"]["code"], notification["channel"])
        for state in states.values()
        for notification in state["notifications"]
        if notification["outcome"] == "sent"
    )
    # ARS, CERT Santé and the HFDS by webhook and e-mail, the declarant by e-mail.
    assert sum(told.values()) == 4 * 7
    sent: dict[tuple[str, str], float] = defaultdict(float)
    for (name, series), value in after["notification"].items():
        labels = dict(series)
        if name == "vigie_delivery_attempts_total" and labels["outcome"] == "sent":
            sent[labels["recipient"], labels["channel"]] += value - before["notification"].get((name, series), 0)
    assert {key: count for key, count in sent.items() if count} == dict(told)

    # Gauges read at the scrape: an idle pipeline has no backlog and no lag.
    for service in ("declaration", "enrichment", "notification"):
        assert total(after[service], "vigie_outbox_backlog_messages") == 0
        assert total(after[service], "vigie_outbox_oldest_age_seconds") == 0
    for group, topic in GROUPS.items():
        service = group.split(".")[0]
        partitions = [
            series
            for (name, series), _ in after[service].items()
            if name == "vigie_consumer_lag_messages" and ("consumer", group) in series
        ]
        assert len(partitions) == 6, f"{group} reports the lag of its 6 partitions"
        assert total(after[service], "vigie_consumer_lag_messages", consumer=group, topic=topic) == 0
    retrying = await scalar(stack, "notification", "SELECT count(*) FROM deliveries WHERE status = 'retrying'")
    failed = await scalar(stack, "notification", "SELECT count(*) FROM deliveries WHERE status = 'failed'")
    assert total(after["notification"], "vigie_delivery_retries_pending") == retrying
    assert total(after["notification"], "vigie_deliveries_dead_lettered") == failed
    for service in SERVICES:
        assert total(after[service], "process_resident_memory_bytes") > 0
