"""The webhook channel against a real HTTP server: what it sends, and what it makes of each answer."""

import asyncio
import hashlib
import hmac
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import uuid4

import pytest
import pytest_asyncio
from aiohttp import web

from vigie_contracts.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from vigie_notification.adapters.webhook import PublicAddressesOnly, WebhookSender
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
    # The test's receiver runs on this machine: a local entry.
    return Webhook.model_validate({"url": url, "secret": SECRET, "local": True})


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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://ars.example/hook", "a webhook URL is https"),
        ("https://user:secret@ars.example/hook", "carries no user or password"),
        ("https://127.0.0.1/hook", "not 127.0.0.1"),
        ("https://10.1.2.3/hook", "not 10.1.2.3"),
        ("https://192.168.0.4/hook", "not 192.168.0.4"),
        ("https://169.254.169.254/latest/meta-data", "not 169.254.169.254"),
        ("https://[::1]/hook", "not ::1"),
        ("https://[::ffff:10.0.0.1]/hook", "not ::ffff:a00:1"),  # 10.0.0.1, in IPv6
        ("https://localhost/hook", "not localhost"),
        ("https://intranet.localhost/hook", "not intranet.localhost"),
    ],
)
def test_a_webhook_goes_to_a_public_https_address_without_credentials(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        Webhook.model_validate({"url": url, "secret": SECRET})


def test_only_an_entry_marked_local_may_post_in_clear_on_this_machine() -> None:
    assert Webhook.model_validate({"url": "http://127.0.0.1:8290/hooks/ars-bre", "secret": SECRET, "local": True})
    assert Webhook.model_validate({"url": "https://hooks.ars-bre.example/vigie", "secret": SECRET})
    with pytest.raises(ValueError, match="carries no user or password"):
        Webhook.model_validate({"url": "http://a:b@127.0.0.1/hook", "secret": SECRET, "local": True})


@pytest.mark.asyncio(loop_scope="function")
async def test_a_name_that_resolves_into_the_local_network_is_not_posted_to() -> None:
    resolver = PublicAddressesOnly()
    try:
        with pytest.raises(OSError, match=r"localhost resolves to 127\.0\.0\.1, not a public address"):
            await resolver.resolve("localhost", 443, socket.AF_INET)
    finally:
        await resolver.close()
