"""What the intake accepted and refused, counted from the answers themselves, so that every path
to a refusal (authentication, rate limit, body, validation, scope, concurrency) is counted once."""

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCEPTED = Counter(
    "vigie_declarations_accepted",
    "Declarations and revisions accepted (202), idempotent replays excluded",
    ["kind"],
)
REPLAYED = Counter(
    "vigie_declarations_replayed",
    "Requests answered with the first answer to the same Idempotency-Key",
    ["kind"],
)
REJECTED = Counter(
    "vigie_declarations_rejected",
    "Declarations and revisions refused, by reason",
    ["kind", "reason"],
)

REASONS = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    408: "body_timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


class IntakeMetrics:
    """ASGI middleware counting the answers to ``POST /v1/declarations[/{id}/revisions]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith("/v1/declarations"):
            await self.app(scope, receive, send)
            return
        kind = "revision" if path.endswith("/revisions") else "declaration"
        answer = {"status": 500, "replayed": False}

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["replayed"] = any(name == b"idempotent-replayed" for name, _ in message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            status = answer["status"]
            if status == 202 and answer["replayed"]:
                REPLAYED.labels(kind).inc()
            elif status == 202:
                ACCEPTED.labels(kind).inc()
            else:
                REJECTED.labels(kind, REASONS.get(int(status), "error")).inc()
