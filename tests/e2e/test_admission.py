"""The intake takes on no more than it can do: beyond its limit of requests in progress a few wait
a moment for a place, the newest first, and the others are answered 503; a body that does not
arrive in time is refused; and none of this loses what was accepted."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import scalar, scrape, total, wait_until

# The declaration service's defaults, and the deadlines the test stack sets (conftest.py).
LIMIT = 16
WAITING = 16
WAIT_SECONDS = 5
BODY_SECONDS = 2


def body(number: int) -> bytes:
    return json.dumps(declaration(finess=finess_in("84", 700000 + number))).encode()


def post(api: httpx.AsyncClient, number: int) -> "asyncio.Task[httpx.Response]":
    return asyncio.create_task(
        api.post("/v1/declarations", content=body(number), headers={"content-type": "application/json"}, timeout=60)
    )


@asynccontextmanager
async def intake_held(stack: Stack) -> AsyncIterator[None]:
    """The intake's transactions held where they write their revisions, so that what it took on
    stays in progress until the block ends (and the service's metrics, which count the outbox,
    still answer meanwhile)."""
    blocker = await asyncpg.connect(stack.postgres.dsn("declaration"))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE declaration_revisions IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.commit()
        await blocker.close()


async def gauges_reach(stack: Stack, *, in_progress: int, waiting: int) -> None:
    async def reached() -> bool:
        samples = await scrape(stack, "declaration")
        return (
            total(samples, "vigie_intake_requests_in_progress") == in_progress
            and total(samples, "vigie_intake_requests_waiting") == waiting
        )

    await wait_until(reached, timeout=30, what=f"{in_progress} requests in progress and {waiting} waiting")


async def test_beyond_its_limit_and_its_waiting_room_the_intake_answers_503_and_loses_nothing(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    before = int(await scalar(stack, "declaration", "SELECT count(*) FROM declarations"))
    shed_before = total(await scrape(stack, "declaration"), "vigie_intake_requests_shed_total")
    async with intake_held(stack):
        held = [post(api, n) for n in range(LIMIT)]
        await gauges_reach(stack, in_progress=LIMIT, waiting=0)
        sent = time.monotonic()
        oldest = post(api, LIMIT)
        await gauges_reach(stack, in_progress=LIMIT, waiting=1)
        waiters = [post(api, LIMIT + 1 + n) for n in range(WAITING - 1)]
        await gauges_reach(stack, in_progress=LIMIT, waiting=WAITING)
        # A newcomer to the full room takes the place of the one waiting longest, refused at once.
        newcomer = post(api, LIMIT + WAITING)
        gave_way = await asyncio.wait_for(oldest, timeout=WAIT_SECONDS / 2)
        assert gave_way.status_code == 503, gave_way.text
        assert gave_way.headers["content-type"] == "application/problem+json"
        assert gave_way.headers["retry-after"] == "1"
        assert gave_way.json()["detail"] == (
            f"the service has {LIMIT} requests in progress and {WAITING} waiting, its most, newer requests first;"
            " nothing was recorded, try again"
        )
        await gauges_reach(stack, in_progress=LIMIT, waiting=WAITING)
        # No place frees while the intake is held: the others give up after their wait.
        gave_up = await asyncio.gather(*waiters, newcomer)
        assert {answer.status_code for answer in gave_up} == {503}
        assert gave_up[0].json()["detail"] == f"no place freed within {WAIT_SECONDS} s; nothing was recorded, try again"
        assert gave_up[0].headers["retry-after"] == "1"
        assert time.monotonic() - sent >= WAIT_SECONDS
        assert not any(task.done() for task in held)

    answers = await asyncio.gather(*held)
    assert [answer.status_code for answer in answers] == [202] * LIMIT
    # The places are free again, and the refused requests were never recorded: their retries are accepted.
    retried = await asyncio.gather(*(post(api, LIMIT + n) for n in range(WAITING + 1)))
    assert [answer.status_code for answer in retried] == [202] * (WAITING + 1)
    assert await scalar(stack, "declaration", "SELECT count(*) FROM declarations") == before + LIMIT + WAITING + 1
    samples = await scrape(stack, "declaration")
    assert total(samples, "vigie_intake_requests_shed_total") == shed_before + WAITING + 1
    assert total(samples, "vigie_intake_requests_in_progress") == 0
    assert total(samples, "vigie_intake_requests_waiting") == 0
    assert total(samples, "vigie_declarations_rejected_total", reason="unavailable") >= WAITING + 1


async def test_a_request_waiting_for_a_place_takes_the_first_one_freed(stack: Stack, api: httpx.AsyncClient) -> None:
    before = int(await scalar(stack, "declaration", "SELECT count(*) FROM declarations"))
    async with intake_held(stack):
        held = [post(api, 100 + n) for n in range(LIMIT)]
        await gauges_reach(stack, in_progress=LIMIT, waiting=0)
        waiting = post(api, 100 + LIMIT)
        await gauges_reach(stack, in_progress=LIMIT, waiting=1)
    # The held requests finish within the waiter's wait: it is taken, not refused.
    answers = await asyncio.gather(*held, waiting)
    assert [answer.status_code for answer in answers] == [202] * (LIMIT + 1), answers[-1].text
    assert await scalar(stack, "declaration", "SELECT count(*) FROM declarations") == before + LIMIT + 1
    await gauges_reach(stack, in_progress=0, waiting=0)


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
