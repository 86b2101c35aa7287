"""The webhook channel: a signed JSON POST to the recipient's endpoint.

Redirects are not followed (a webhook that moved must be changed in the directory, not chased
to wherever a redirect points) and timeouts are short: a slow receiver is retried later.

The client is aiohttp's: it costs a fraction of the CPU httpx takes for a POST (BENCHMARKS.md),
and the notification service sends a webhook to every agency told of each declaration.
"""

import hashlib
import hmac
import socket
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from opentelemetry.instrumentation.aiohttp_client import create_trace_config

from vigie_contracts.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

from ..domain.directory import Webhook, public_host


@dataclass(frozen=True, slots=True)
class SendResult:
    delivered: bool
    error: str | None = None
    # A permanent failure is not retried (the receiver said the endpoint is gone for good).
    permanent: bool = False


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# What is read of a receiver's answer: its status is what counts, and a body past this is not
# worth holding (the connection is closed rather than read to its end).
_ANSWER_BYTES = 65_536


class PublicAddressesOnly(AbstractResolver):
    """Resolves a receiver's name and refuses it when any address it gives is not public: a name
    in the directory that now points into Vigie's own network is not followed there."""

    def __init__(self) -> None:
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        inner = [result["host"] for result in found if not public_host(result["host"])]
        if inner:
            raise OSError(f"{host} resolves to {inner[0]}, not a public address: not posted to")
        return found

    async def close(self) -> None:
        await self._resolver.close()


def make_client(timeout_seconds: float, *, public_only: bool = True) -> aiohttp.ClientSession:
    """The webhook client: traced (one client span a POST), a pool of keep-alive connections;
    to public addresses only, unless made for the directory's local receivers."""
    options: dict[str, Any] = {"resolver": PublicAddressesOnly()} if public_only else {}
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, 3.0)),
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=50, **options),
        headers={"User-Agent": "Vigie-Notification/1"},
        trace_configs=[create_trace_config()],
        raise_for_status=False,
    )


class WebhookSender:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._clients: dict[bool, aiohttp.ClientSession] = {}

    def client(self, webhook: Webhook) -> aiohttp.ClientSession:
        # Made at the first send, in the service's event loop, which aiohttp's pool belongs to.
        public_only = not webhook.local
        if public_only not in self._clients:
            self._clients[public_only] = make_client(self.timeout_seconds, public_only=public_only)
        return self._clients[public_only]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    async def send(self, notification_id: UUID, body: bytes, webhook: Webhook) -> SendResult:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: str(notification_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(webhook.secret.get_secret_value().encode(), timestamp, body),
        }
        try:
            async with self.client(webhook).post(
                str(webhook.url), data=body, headers=headers, allow_redirects=False
            ) as answer:
                status, location = answer.status, answer.headers.get("Location", "?")
                await answer.content.read(_ANSWER_BYTES)
        except TimeoutError:
            return SendResult(delivered=False, error="no answer before the timeout")
        except aiohttp.ClientError as error:
            return SendResult(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        if 200 <= status < 300:
            return SendResult(delivered=True)
        if status in (301, 302, 303, 307, 308):
            return SendResult(delivered=False, error=f"HTTP {status} redirect to {location}, not followed")
        return SendResult(delivered=False, error=f"HTTP {status}", permanent=status == 410)
