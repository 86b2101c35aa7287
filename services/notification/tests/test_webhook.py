"""The webhook channel against a real HTTP server: what it sends, and what it makes of each answer."""

import asyncio
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import uuid4

import pytest
import pytest_asyncio
from aiohttp import web

from vigie_contracts.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from vigie_notification.adapters.webhook import WebhookSender
from vigie_notification.domain.directory import Webhook

SECRET = "s" * 40
BODY = b'{"reference": "VIG-2026-000001"}'
Handler = Callable[[web.Request], Awaitable[web.Response]]
# (event id, the sender's address and port) of each signed POST received
RECEIVED = web.AppKey("received", list[tuple[str, object]])


async def _ok(request: web.Request) -> web.Response:
    body = await request.read()
    timestamp = request.headers[TIMESTAMP_HEADER]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if body != BODY or not hmac.compare_digest(request.headers[SIGNATURE_HEADER], "v1=" + expected):
        return web.Response(status=401)
    peer = request.transport.get_extra_info("peername") if request.transport else None
    request.app[RECEIVED].append((request.headers[EVENT_ID_HEADER], peer))
    return web.Response(status=204)


def _answer(status: int, **headers: str) -> Handler:
    async def handle(_: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers)

    return handle


async def _slow(_: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(status=204)


async def _huge(request: web.Request) -> web.StreamResponse:
    answer = web.StreamResponse(status=200)
    await answer.prepare(request)
    for _ in range(200):  # 20 MB the sender has no reason to read
        await answer.write(b"x" * 100_000)
    return answer


@pytest_asyncio.fixture(loop_scope="function")
async def server() -> AsyncIterator[tuple[str, web.Application]]:
    app = web.Application()
    app[RECEIVED] = []
    app.router.add_post("/ok", _ok)
    app.router.add_post("/moved", _answer(308, Location="https://elsewhere.test"))
    app.router.add_post("/gone", _answer(410))
    app.router.add_post("/broken", _answer(503))
    app.router.add_post("/slow", _slow)
    app.router.add_post("/huge", _huge)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", app
    await runner.cleanup()


def hook(url: str) -> Webhook:
    return Webhook.model_validate({"url": url, "secret": SECRET})


@pytest.mark.asyncio(loop_scope="function")
async def test_a_signed_post_is_delivered_and_the_connection_kept(server: tuple[str, web.Application]) -> None:
    base, app = server
    sender = WebhookSender(timeout_seconds=2)
    try:
        ids = [uuid4() for _ in range(3)]
        results = [await sender.send(i, BODY, hook(f"{base}/ok")) for i in ids]
        assert [r.delivered for r in results] == [True, True, True]
        assert [event for event, _ in app[RECEIVED]] == [str(i) for i in ids]
        assert len({peer for _, peer in app[RECEIVED]}) == 1  # three POSTs, one connection
    finally:
        await sender.close()


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize(
    ("path", "error", "permanent"),
    [
        ("/moved", "HTTP 308 redirect to https://elsewhere.test, not followed", False),
        ("/gone", "HTTP 410", True),
        ("/broken", "HTTP 503", False),
        ("/slow", "no answer before the timeout", False),
    ],
)
async def test_each_answer_but_success_is_a_failure_that_says_why(
    server: tuple[str, web.Application], path: str, error: str, permanent: bool
) -> None:
    base, _ = server
    sender = WebhookSender(timeout_seconds=1)
    try:
        result = await sender.send(uuid4(), BODY, hook(f"{base}{path}"))
    finally:
        await sender.close()
    assert (result.delivered, result.error, result.permanent) == (False, error, permanent)


@pytest.mark.asyncio(loop_scope="function")
async def test_a_huge_answer_is_not_read_to_its_end(server: tuple[str, web.Application]) -> None:
    base, _ = server
    sender = WebhookSender(timeout_seconds=2)
    try:
        assert (await sender.send(uuid4(), BODY, hook(f"{base}/huge"))).delivered
    finally:
        await sender.close()


@pytest.mark.asyncio(loop_scope="function")
async def test_an_unreachable_receiver_is_named(server: tuple[str, web.Application]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    sender = WebhookSender(timeout_seconds=1)
    try:
        result = await sender.send(uuid4(), BODY, hook(f"http://127.0.0.1:{port}/hook"))
    finally:
        await sender.close()
    assert not result.delivered
    assert result.error is not None
    assert result.error.startswith("ClientConnectorError: Cannot connect to host 127.0.0.1")
