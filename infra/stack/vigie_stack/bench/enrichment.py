"""How fast enrichment keeps up with a burst, with a threat-intelligence store of 100,000+
indicators, on the real broker and database.

Submitted events are produced straight onto ``declaration.submitted.v1`` (the intake is measured
elsewhere), and the clock runs until the enrichment consumer group has caught up and every
declaration's enrichment is committed.

    vigie-stack bench enrichment [--indicators 100000] [--declarations 2000]
"""

import asyncio
import ipaddress
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import DeclarationSubmitted, RevisionKind, SubmittedData
from vigie_contracts.territory import REGIONS

from ..samples import declaration, finess_in
from ..stack import Stack


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a benchmark prints its figures


def public_ips(rng: random.Random, count: int) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        address = ipaddress.IPv4Address(rng.randrange(1 << 24, 224 << 24))
        if address.is_global:
            found.add(str(address))
    return sorted(found)


def synthetic_bundle(count: int, rng: random.Random) -> tuple[dict[str, Any], list[str], list[str]]:
    """A STIX bundle of ``count`` indicators: addresses, domains and hashes, in equal parts."""
    third = count // 3
    ips = public_ips(rng, third)
    domains = [f"threat-{i:06d}-{rng.randrange(1 << 20):05x}.com" for i in range(third)]
    hashes = [f"{rng.getrandbits(256):064x}" for _ in range(count - 2 * third)]
    objects: list[dict[str, Any]] = []
    patterns = (
        [f"[ipv4-addr:value = '{v}']" for v in ips]
        + [f"[domain-name:value = '{v}']" for v in domains]
        + [f"[file:hashes.'SHA-256' = '{v}']" for v in hashes]
    )
    for index, pattern in enumerate(patterns):
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid4()}",
                "name": f"bench indicator {index}",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
                "labels": ["bench"],
            }
        )
    return {"type": "bundle", "id": f"bundle--{uuid4()}", "objects": objects}, ips, domains


def submitted_events(count: int, ips: list[str], domains: list[str], rng: random.Random) -> list[DeclarationSubmitted]:
    regions = list(REGIONS)
    events = []
    now = datetime.now(UTC)
    for index in range(count):
        indicators = [{"type": "ipv4", "value": rng.choice(ips)}] if rng.random() < 0.3 else []
        text = f"Connexion vers hxxps://{rng.choice(domains)}/x" if rng.random() < 0.3 else "Aucun indicateur."
        payload = declaration(
            finess=finess_in(regions[index % len(regions)], 600000 + index),
            category=rng.choice(["ransomware", "phishing", "intrusion", "technical_failure"]),
            description=text,
            indicators=indicators,
            detected_at=now - timedelta(hours=2),
        )
        content = DeclarationContent.model_validate(payload)
        events.append(
            DeclarationSubmitted(
                event_id=uuid4(),
                occurred_at=now,
                producer="bench",
                declaration_id=uuid4(),
                data=SubmittedData(
                    reference=f"VIG-2026-{900000 + index:06d}",
                    revision=1,
                    kind=RevisionKind.initial,
                    submitted_at=now,
                    declaration=content,
                ),
            )
        )
    return events


async def _produce(stack: Stack, events: list[DeclarationSubmitted]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.config.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                DeclarationSubmitted.topic.name,
                event.model_dump_json().encode(),
                key=str(event.declaration_id).encode(),
            )
            for event in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _enriched(stack: Stack) -> int:
    connection = await asyncpg.connect(stack.postgres.dsn("enrichment"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM enrichments"))
    finally:
        await connection.close()


def run(stack: Stack, *, indicators: int, declarations: int, results: Path) -> dict[str, Any]:
    rng = random.Random(8)  # noqa: S311 - reproducible synthetic data
    stack.reset()
    try:
        stack.start_infrastructure()  # inside the try: a failed start leaves nothing running
        stack.start_services(["enrichment"])
        bundle, ips, domains = synthetic_bundle(indicators, rng)
        path = stack.config.state / "bench-bundle.json"
        path.write_text(json.dumps(bundle))
        started = time.perf_counter()
        loaded = stack.services["enrichment"].command("intel", "load", "--stix", str(path), "--source", "stix:bench")
        load_seconds = time.perf_counter() - started
        if loaded.returncode != 0:
            raise RuntimeError(loaded.stdout + loaded.stderr)
        _print(loaded.stdout.strip())

        events = submitted_events(declarations, ips, domains, rng)
        before = asyncio.run(_enriched(stack))
        started = time.perf_counter()
        asyncio.run(_produce(stack, events))
        produced = time.perf_counter() - started
        while asyncio.run(_enriched(stack)) < before + declarations:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stack.down()
    figures = {
        "benchmark": "enrichment",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "indicators_loaded": indicators,
        "intel_load_seconds": round(load_seconds, 2),
        "declarations": declarations,
        "produce_seconds": round(produced, 2),
        "enrich_seconds": round(elapsed, 2),
        "declarations_per_second": round(declarations / elapsed, 1),
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / "enrichment.json").write_text(json.dumps(figures, indent=2))
    _print(
        f"\nEnrichment: {declarations} declarations against {indicators:,} indicators in {elapsed:.1f}s"
        f" → {figures['declarations_per_second']} declarations/s (intel load {load_seconds:.1f}s)"
    )
    return figures
