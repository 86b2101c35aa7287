"""Stand-in for the systems of the 18 ARS and CERT Santé: a real HTTP server that receives
Vigie's webhooks, checks each signature as an ARS would, and remembers what arrived.

The local stack runs it so the demo shows who was told what; the tests run it in-process and
make some recipients fail or hang on purpose.
"""

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

from vigie_contracts.territory import REGIONS

from .config import StackConfig
from .serving import BackgroundServer

CERT_SANTE = "cert-sante"
MAX_CLOCK_SKEW_SECONDS = 300


def write_directory(config: StackConfig, receiver_url: str) -> Path:
    """The recipients directory of a local stack: every ARS and CERT Santé, each with a webhook
    on the stand-in receiver and a freshly generated signing secret (kept if already there)."""
    path = config.recipients_file
    old: dict[str, str] = {}
    if path.is_file():
        directory = json.loads(path.read_text())
        for known in [directory["cert_sante"], *directory["ars"]]:
            if known.get("webhook"):
                old[known["code"]] = known["webhook"]["secret"]

    def entry(code: str, name: str) -> dict[str, Any]:
        return {
            "code": code,
            "name": name,
            "webhook": {
                "url": f"{receiver_url}/hooks/{code}",
                "secret": old.get(code) or secrets.token_urlsafe(32),
            },
            "email": f"alerte@{code}.vigie.test",
        }

    directory = {
        "cert_sante": entry(CERT_SANTE, "CERT Santé (Agence du numérique en santé)"),
        "ars": [entry(region.ars_code, region.ars_name) for region in REGIONS.values()],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(directory, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return path


def directory_secrets(path: Path) -> dict[str, bytes]:
    directory = json.loads(path.read_text())
    return {
        entry["code"]: entry["webhook"]["secret"].encode()
        for entry in [directory["cert_sante"], *directory["ars"]]
        if entry.get("webhook")
    }


@dataclass
class Received:
    recipient: str
    event_id: str
    body: dict[str, Any]
    received_at: float


@dataclass
class Behaviour:
    """How a recipient answers: fail ``failures`` times with ``status`` then succeed, or hang."""

    failures: int = 0
    status: int = 500
    hang: bool = False


@dataclass
class WebhookReceiver:
    secrets: dict[str, bytes]
    port: int = 0
    record_file: Path | None = None
    received: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rejected: list[str] = field(default_factory=list)
    # Event ids that arrived again after being recorded (deduplicated, acknowledged).
    duplicates: list[str] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    _server: BackgroundServer | None = None

    def app(self) -> FastAPI:
        app = FastAPI(title="Stand-in ARS and CERT Santé webhook receiver")

        @app.post("/hooks/{recipient}")
        async def hook(recipient: str, request: Request) -> Response:
            return await self.handle(recipient, request)

        @app.get("/hooks")
        async def summary() -> dict[str, Any]:
            return {code: [r.body["reference"] for r in items] for code, items in self.received.items()}

        return app

    async def handle(self, recipient: str, request: Request) -> Response:
        body = await request.body()
        self.requests[recipient] += 1
        problem = self.verify(recipient, request.headers, body)
        if problem is not None:
            self.rejected.append(f"{recipient}: {problem}")
            return Response(problem, status_code=401)
        behaviour = self.behaviour.get(recipient)
        if behaviour is not None and behaviour.hang:
            await asyncio.sleep(3600)
        if behaviour is not None and behaviour.failures > 0:
            behaviour.failures -= 1
            return Response("induced failure", status_code=behaviour.status)
        event_id = request.headers["vigie-event-id"]
        # A receiver deduplicates on the event id: a retried notification is acknowledged,
        # not recorded twice.
        if (recipient, event_id) in self.seen:
            self.duplicates.append(event_id)
            return Response(status_code=200)
        self.seen.add((recipient, event_id))
        received = Received(recipient, event_id, json.loads(body), time.time())
        self.received[recipient].append(received)
        if self.record_file is not None:
            line = {
                "recipient": recipient,
                "event_id": event_id,
                "received_at": received.received_at,
                "body": received.body,
            }
            with self.record_file.open("a") as record:
                record.write(json.dumps(line) + "\n")
        return Response(status_code=204)

    def verify(self, recipient: str, headers: Any, body: bytes) -> str | None:
        secret = self.secrets.get(recipient)
        if secret is None:
            return "unknown recipient"
        timestamp = headers.get("vigie-timestamp", "")
        signature = headers.get("vigie-signature", "")
        if not headers.get("vigie-event-id"):
            return "missing Vigie-Event-Id"
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return "stale or missing timestamp"
        expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.removeprefix("v1="), expected):
            return "bad signature"
        return None

    def references(self, recipient: str) -> list[str]:
        return [r.body["reference"] for r in self.received.get(recipient, [])]

    def revisions(self, recipient: str) -> list[tuple[str, int]]:
        """What a recipient was told: (reference, revision), once per notification."""
        return [(r.body["reference"], r.body["revision"]) for r in self.received.get(recipient, [])]

    def start(self) -> None:
        """Serve from a thread of its own: an agency answers whatever the caller is doing."""
        self._server = BackgroundServer(self.app(), port=self.port)
        self._server.start()
        self.port = self._server.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
