"""Finding 8 of the security review, the smaller items: Zipkin kept ``url.query`` with its
``access_token``; failed authentications were never braked; denied reads left no trace in the
audit trail; a webhook could be http, private, loopback or link-local, or carry ``user:pass@``.
(The partner's timeline is test_security_privacy.py's; Kafka and PostgreSQL over TLS,
test_security_transport.py's.)"""

import asyncio
from uuid import uuid4

import httpx
import pytest

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client
from ..support.pipeline import wait_until


async def test_a_token_in_a_query_does_not_reach_zipkin(stack: Stack) -> None:
    marker = uuid4().hex
    secret = "vign_" + "S" * 43
    async with httpx.AsyncClient(base_url=stack.config.service_url("stats")) as stats:
        refused = await stats.get("/v1/stats", params={"group_by": "region", "probe": marker, "access_token": secret})
    assert refused.status_code == 400
    queries: list[str] = []

    async def recorded() -> bool:
        answer = await asyncio.to_thread(
            httpx.get,
            f"{stack.zipkin.url}/api/v2/traces",
            params={"serviceName": "stats", "lookback": 600_000, "limit": 200},
        )
        queries[:] = [
            span["tags"]["url.query"]
            for trace in answer.json()
            for span in trace
            if marker in span.get("tags", {}).get("url.query", "")
        ]
        return bool(queries)

    await wait_until(recorded, timeout=30, what="the refused request's span in Zipkin")
    assert queries == [f"group_by=region&probe={marker}&access_token=***"]


@pytest.mark.parametrize("service", ["declaration", "stats"])
async def test_failed_authentications_are_braked_per_client_address(stack: Stack, service: str) -> None:
    # From an address of its own (loopback has 127.0.0.0/8): the suite's other calls come from
    # 127.0.0.1. The test stack allows 100 failures a minute (VIGIE_FAILED_AUTHENTICATIONS_PER_MINUTE).
    address = "127.0.0.9" if service == "declaration" else "127.0.0.10"
    transport = httpx.AsyncHTTPTransport(local_address=address)
    path = "/v1/declarations" if service == "declaration" else "/v1/stats?group_by=region"
    async with httpx.AsyncClient(base_url=stack.config.service_url(service), transport=transport) as guesser:
        answers = [
            (
                await guesser.get(path, headers={"Authorization": f"Bearer vign_{uuid4().hex}{uuid4().hex[:11]}"})
            ).status_code
            for _ in range(101)
        ]
        assert answers[:100] == [401] * 100
        assert answers[100] == 429
        braked = await guesser.get(path, headers={"Authorization": "Bearer anything"})
        assert braked.status_code == 429
        assert int(braked.headers["retry-after"]) >= 1
        assert braked.json()["detail"].startswith("too many failed authentications from your address")
    async with httpx.AsyncClient(base_url=stack.config.service_url(service)) as neighbour:
        assert (await neighbour.get(path, headers={"Authorization": "Bearer x"})).status_code == 401


async def test_a_denied_read_is_in_the_audit_trail(stack: Stack, national_api: httpx.AsyncClient) -> None:
    owner = await asyncio.to_thread(
        stack.credential, "--kind", "partner", "--name", "Propriétaire", "--departement", "33"
    )
    intruder = await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", "Curieux", "--departement", "*")
    ars = await asyncio.to_thread(stack.credential, "--kind", "ars", "--name", "ARS Bretagne (audit)", "--region", "53")
    async with (
        client(stack, owner["secret"]) as a,
        client(stack, intruder["secret"]) as b,
        client(stack, ars["secret"]) as c,
    ):
        declared = (await a.post("/v1/declarations", json=declaration(finess=finess_in("75", 8801)))).json()["id"]
        assert (await b.get(f"/v1/declarations/{declared}")).status_code == 404
        assert (await c.get(f"/v1/declarations/{declared}")).status_code == 403
        assert (await b.get(f"/v1/declarations/{declared}/audit")).status_code == 403
    trail = (await national_api.get(f"/v1/declarations/{declared}/audit")).json()
    denied = [
        (e["principal"], e["credential_id"], e["action"], e["detail"]["status"])
        for e in trail
        if "denied" in e["action"]
    ]
    assert denied == [
        (intruder["principal"], intruder["id"], "read denied", 404),
        (ars["principal"], ars["id"], "read denied", 403),
        (intruder["principal"], intruder["id"], "audit denied", 403),
    ]


async def test_a_webhook_must_be_public_https_without_credentials(stack: Stack) -> None:
    command = stack.services["notification"].command
    for url, why in [
        ("http://hooks.ars-bre.example/vigie", "a webhook URL is https"),
        ("https://10.20.30.40/vigie", "not 10.20.30.40 (private, loopback or link-local)"),
        ("https://127.0.0.1:8290/hooks/ars-bre", "not 127.0.0.1"),
        ("https://169.254.169.254/latest/meta-data/", "not 169.254.169.254"),
        ("https://vigie:secret@hooks.ars-bre.example/vigie", "carries no user or password"),
    ]:
        done = await asyncio.to_thread(command, "directory", "set", "ars-bre", "--webhook-url", url)
        assert done.returncode == 2, (url, done.stdout, done.stderr)
        assert why in done.stdout + done.stderr, (url, done.stdout + done.stderr)
    # The stand-in receiver, on this machine, is a local entry: the one exception.
    shown = await asyncio.to_thread(command, "directory", "show")
    assert f"http://127.0.0.1:{stack.config.receiver_port}/hooks/ars-bre (local)" in shown.stdout
