"""The intake takes on no more than it can do: beyond its limit of requests in progress it answers
503 at once, a body that does not arrive in time is refused, and neither loses what was accepted."""

import asyncio
import json
import time

import asyncpg
import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import scalar, scrape, total, wait_until

# The declaration service's defaults, and the body deadline the test stack sets (conftest.py).
LIMIT = 16
BODY_SECONDS = 2


def body(number: int) -> bytes:
    return json.dumps(declaration(finess=finess_in("84", 700000 + number))).encode()


async def test_beyond_its_limit_the_intake_answers_503_at_once_and_loses_nothing(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    before = int(await scalar(stack, "declaration", "SELECT count(*) FROM declarations"))
    shed_before = total(await scrape(stack, "declaration"), "vigie_intake_requests_shed_total")
    # Hold the intake's transactions where they write their event, so that they stay in progress.
    blocker = await asyncpg.connect(stack.postgres.dsn("declaration"))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
    try:
        held = [
            asyncio.create_task(
                api.post("/v1/declarations", content=body(n), headers={"content-type": "application/json"}, timeout=60)
            )
            for n in range(LIMIT)
        ]

        async def all_in_progress() -> bool:
            samples = await scrape(stack, "declaration")
            return total(samples, "vigie_intake_requests_in_progress") == LIMIT

        await wait_until(all_in_progress, timeout=30, what=f"{LIMIT} requests in progress")
        started = time.monotonic()
        refused = await api.post("/v1/declarations", content=body(LIMIT), headers={"content-type": "application/json"})
        answered_in = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["detail"].startswith(f"the service has {LIMIT} requests in progress")
        assert answered_in < 5  # at once, not after the requests ahead of it (which are held)
        assert not any(task.done() for task in held)
    finally:
        await transaction.commit()
        await blocker.close()

    answers = await asyncio.gather(*held)
    assert [answer.status_code for answer in answers] == [202] * LIMIT
    # The place is free again, and the refused request was never recorded: its retry is accepted.
    retried = await api.post("/v1/declarations", content=body(LIMIT), headers={"content-type": "application/json"})
    assert retried.status_code == 202, retried.text
    assert await scalar(stack, "declaration", "SELECT count(*) FROM declarations") == before + LIMIT + 1
    samples = await scrape(stack, "declaration")
    assert total(samples, "vigie_intake_requests_shed_total") == shed_before + 1
    assert total(samples, "vigie_intake_requests_in_progress") == 0
    assert total(samples, "vigie_declarations_rejected_total", reason="unavailable") >= 1


async def test_a_body_that_does_not_arrive_in_time_is_refused_and_holds_no_place(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    before = int(await scalar(stack, "declaration", "SELECT count(*) FROM declarations"))
    whole = body(LIMIT + 1)
    # More slow senders than the intake has places: none of them holds one while it trickles.
    senders = []
    for _ in range(LIMIT + 4):
        reader, writer = await asyncio.open_connection("127.0.0.1", stack.config.service_ports["declaration"])
        writer.write(
            b"POST /v1/declarations HTTP/1.1\r\nHost: vigie\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {api.headers['authorization'].removeprefix('Bearer ')}\r\n".encode()
            + f"Content-Length: {len(whole)}\r\n\r\n".encode()
            + whole[:100]
        )
        await writer.drain()
        senders.append((reader, writer))
    started = time.monotonic()
    meanwhile = await api.post(
        "/v1/declarations", content=body(LIMIT + 2), headers={"content-type": "application/json"}
    )
    assert meanwhile.status_code == 202, meanwhile.text

    for reader, writer in senders:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=BODY_SECONDS + 10)
        assert head.startswith(b"HTTP/1.1 408 "), head
        assert b"content-type: application/problem+json" in head.lower()
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
        answer = json.loads(await reader.readexactly(length))
        assert answer["detail"] == f"the body did not arrive within {BODY_SECONDS} s; nothing was recorded"
        writer.close()
    assert time.monotonic() - started >= BODY_SECONDS - 0.5

    async def recorded() -> bool:
        return int(await scalar(stack, "declaration", "SELECT count(*) FROM declarations")) == before + 1

    await wait_until(recorded, timeout=10, what="the one whole declaration, alone, recorded")
    samples = await scrape(stack, "declaration")
    assert total(samples, "vigie_declarations_rejected_total", reason="body_timeout") >= LIMIT + 4
