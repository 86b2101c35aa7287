"""A message that cannot be processed goes to its topic's dead-letter twin with the reason, and
the partition goes on."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from vigie_contracts.topics import PARTITIONS
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import read_topic, settle, wait_for_status


def partition_of(key: str) -> int:
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


async def test_undecodable_messages_are_dead_lettered_and_every_partition_goes_on(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for partition in range(PARTITIONS):
            await producer.send_and_wait("declaration.submitted.v1", b"{not json", key=b"poison", partition=partition)
        await producer.send_and_wait("declaration.submitted.v1", json.dumps({"event_id": "x"}).encode(), key=b"poison")
    finally:
        await producer.stop()

    # Declarations after the poison, until every partition has had one.
    ids: list[str] = []
    while {partition_of(i) for i in ids} != set(range(PARTITIONS)):
        response = await api.post("/v1/declarations", json=declaration(finess=finess_in("32", 740000 + len(ids))))
        assert response.status_code == 202
        ids.append(response.json()["id"])
    await wait_for_status(api, ids)
    await settle(stack)

    dead = [r for r in await read_topic(stack, "declaration.submitted.v1.dlt") if r.key == b"poison"]
    assert len(dead) == PARTITIONS + 1
    for record in dead:
        headers = {key: value.decode() for key, value in record.headers}
        assert headers["dlt_consumer_group"] == "enrichment.enrich"
        assert headers["dlt_topic"] == "declaration.submitted.v1"
        assert "not a valid DeclarationSubmitted" in headers["dlt_reason"]
        assert headers["dlt_offset"].isdigit()
    assert {record.value for record in dead} == {b"{not json", b'{"event_id": "x"}'}


async def test_an_event_one_consumer_cannot_apply_is_dead_lettered_for_it_alone(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    """An enriched event for a declaration the intake never took: the declaration service cannot
    apply it, while its neighbours in the batch, and the other consumers, go on."""
    good = [
        (await api.post("/v1/declarations", json=declaration(finess=finess_in("52", 750000 + n)))).json()["id"]
        for n in range(3)
    ]
    orphan = uuid4()
    now = datetime.now(UTC).isoformat()
    event = {
        "event_id": str(uuid4()),
        "type": "declaration.enriched",
        "schema_version": "1.0",
        "occurred_at": now,
        "producer": "tests",
        "declaration_id": str(orphan),
        "data": {
            "reference": "VIG-2026-999999",
            "revision": 1,
            "kind": "initial",
            "submitted_at": now,
            "declaration": declaration(finess=finess_in("52", 759999)),
            "departement": {"code": "44", "name": "Loire-Atlantique"},
            "region": {"code": "52", "name": "Pays de la Loire"},
            "ars": {"code": "ars-pdl", "name": "ARS Pays de la Loire"},
            "enriched_at": now,
        },
    }
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("declaration.enriched.v1", json.dumps(event).encode(), key=str(orphan).encode())
    finally:
        await producer.stop()

    await wait_for_status(api, good)
    await settle(stack)
    dead = [r for r in await read_topic(stack, "declaration.enriched.v1.dlt") if r.key == str(orphan).encode()]
    assert len(dead) == 1
    headers = {key: value.decode() for key, value in dead[0].headers}
    assert headers["dlt_consumer_group"] == "declaration.enrichment-status"
    assert f"UnknownDeclaration: no declaration {orphan}" in headers["dlt_reason"]
