"""The webhook channel: a signed JSON POST to the recipient's endpoint.

Redirects are not followed (a webhook that moved must be changed in the directory, not chased
to wherever a redirect points) and timeouts are short: a slow receiver is retried later.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from uuid import UUID

import httpx

from vigie_contracts.webhook import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

from ..domain.directory import Webhook


@dataclass(frozen=True, slots=True)
class SendResult:
    delivered: bool
    error: str | None = None
    # A permanent failure is not retried (the receiver said the endpoint is gone for good).
    permanent: bool = False


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def make_client(timeout_seconds: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 3.0)),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={"User-Agent": "Vigie-Notification/1"},
    )


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, notification_id: UUID, body: bytes, webhook: Webhook) -> SendResult:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: str(notification_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(webhook.secret.get_secret_value().encode(), timestamp, body),
        }
        try:
            response = await self.client.post(str(webhook.url), content=body, headers=headers)
        except httpx.TimeoutException:
            return SendResult(delivered=False, error="no answer before the timeout")
        except httpx.HTTPError as error:
            return SendResult(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        if response.is_success:
            return SendResult(delivered=True)
        if response.is_redirect:
            location = response.headers.get("location", "?")
            return SendResult(
                delivered=False,
                error=f"HTTP {response.status_code} redirect to {location}, not followed",
            )
        return SendResult(
            delivered=False,
            error=f"HTTP {response.status_code}",
            permanent=response.status_code == 410,
        )
