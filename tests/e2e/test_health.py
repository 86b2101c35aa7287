"""Liveness and readiness: a service whose database is away is alive but not ready, says which
dependency is missing, refuses writes with a 503 it can be retried on, and is ready again as
soon as the database is back, having lost nothing; the outage is logged as warnings, with no
traceback."""

import asyncio
import json

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import probes, settle, wait_for_status, wait_readiness


async def test_readiness_follows_the_database(stack: Stack, api: httpx.AsyncClient) -> None:
    await settle(stack)
    await wait_readiness(stack, ready=True)
    body = (await probes(stack, "ready"))["declaration"].json()
    assert body == {"status": "ready", "checks": {"database": True, "kafka": True}}

    logged = {name: group.log_file.stat().st_size for name, group in stack.services.items()}
    await asyncio.to_thread(lambda: stack.postgres.stop(kill=True))  # abruptly: pg_ctl -m immediate
    try:
        await wait_readiness(stack, ready=False, missing="database")
        assert all(answer.status_code == 200 for answer in (await probes(stack, "live")).values())
        refused = await api.post("/v1/declarations", json=declaration(finess=finess_in("84", 792000)))
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "5"
    finally:
        await asyncio.to_thread(stack.postgres.start)

    await wait_readiness(stack, ready=True)
    accepted = await api.post("/v1/declarations", json=declaration(finess=finess_in("84", 792001)))
    assert accepted.status_code == 202, accepted.text
    await wait_for_status(api, [accepted.json()["id"]])
    warned = []
    for name, group in stack.services.items():
        with group.log_file.open(encoding="utf-8") as log:
            log.seek(logged[name])
            lines = [json.loads(line) for line in log if line.startswith("{")]
        troubled = [line for line in lines if line["level"] in ("error", "critical") or "Traceback" in str(line)]
        assert troubled == [], (name, troubled[:3])
        warned += [line["message"] for line in lines if line["level"] == "warning"]
    assert any("database is unreachable" in message for message in warned), warned[:5]
