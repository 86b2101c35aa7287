"""Stand-in for the systems of the 18 ARS and CERT Santé: a real HTTP server that receives
Vigie's webhooks, checks each signature as an ARS would, and remembers what arrived.

The local stack runs it so the demo shows who was told what; the tests run it in-process and
make some recipients fail or hang on purpose.

It is a bare ASGI app rather than a FastAPI one: it shares the machine's cores with the pipeline
it stands outside of, and routing two paths needs no framework (FastAPI's request handling was
half of what a webhook cost it).
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vigie_contracts.territory import REGIONS

from .config import StackConfig
from .serving import BackgroundServer

CERT_SANTE = "cert-sante"
HFDS = "hfds"
MAX_CLOCK_SKEW_SECONDS = 300

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def write_directory(config: StackConfig, receiver_url: str) -> Path:
    """The recipients directory of a local stack: every agency, CERT Santé and the HFDS, each with
    a webhook on the stand-in receiver and a freshly generated signing secret (kept if already
    there), and an alert desk's e-mail."""
    path = config.recipients_file
    old: dict[str, str] = {}
    if path.is_file():
        directory = json.loads(path.read_text())
        for known in [
            directory["cert_sante"],
            *directory["ars"],
            *([directory["ministry"]] if "ministry" in directory else []),
        ]:
            if known.get("webhook"):
                old[known["code"]] = known["webhook"]["secret"]

    def entry(code: str, name: str) -> dict[str, Any]:
        return {
            "code": code,
            "name": name,
            "webhook": {
                "url": f"{receiver_url}/hooks/{code}",
                "secret": old.get(code) or secrets.token_urlsafe(32),
                # The stand-in receiver on this machine: a local entry, the only kind allowed http.
                "local": True,
            },
            "email": f"alerte@{code}.vigie.test",
        }

    directory = {
        "cert_sante": entry(CERT_SANTE, "CERT Santé (Agence du numérique en santé)"),
        "ars": [entry(region.ars_code, region.ars_name) for region in REGIONS.values()],
        "ministry": entry(HFDS, "HFDS des ministères sociaux (unité FSSI)"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(directory, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return path


def directory_secrets(path: Path) -> dict[str, bytes]:
    directory = json.loads(path.read_text())
    return {
        entry["code"]: entry["webhook"]["secret"].encode()
        for entry in [directory["cert_sante"], *directory["ars"], directory["ministry"]]
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
    _record: IO[str] | None = None

    def app(self) -> "WebhookReceiver":
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI: ``POST /hooks/<recipient>`` takes a notification, ``GET /hooks`` says who got what."""
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method == "POST" and path.startswith("/hooks/") and path.count("/") == 2:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            status, answer = await self.handle(path.removeprefix("/hooks/"), headers, body)
            await _respond(send, status, answer, b"text/plain; charset=utf-8")
        elif method == "GET" and path == "/hooks":
            summary = {code: [r.body["reference"] for r in items] for code, items in self.received.items()}
            await _respond(send, 200, json.dumps(summary).encode(), b"application/json")
        else:
            await _respond(send, 404, b"not found", b"text/plain; charset=utf-8")

    async def handle(self, recipient: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        self.requests[recipient] += 1
        problem = self.verify(recipient, headers, body)
        if problem is not None:
            self.rejected.append(f"{recipient}: {problem}")
            return 401, problem.encode()
        behaviour = self.behaviour.get(recipient)
        if behaviour is not None and behaviour.hang:
            # Until the caller gives up, or this stand-in stops (which cancels the wait: quietly,
            # an agency that hangs has nothing to say).
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)
            return 503, b"hung up"
        if behaviour is not None and behaviour.failures > 0:
            behaviour.failures -= 1
            return behaviour.status, b"induced failure"
        event_id = headers["vigie-event-id"]
        # A receiver deduplicates on the event id: a retried notification is acknowledged,
        # not recorded twice.
        if (recipient, event_id) in self.seen:
            self.duplicates.append(event_id)
            return 200, b""
        self.seen.add((recipient, event_id))
        received = Received(recipient, event_id, json.loads(body), time.time())
        self.received[recipient].append(received)
        if self.record_file is not None:
            if self._record is None:
                self._record = self.record_file.open("a", encoding="utf-8")
            line = {
                "recipient": recipient,
                "event_id": event_id,
                "received_at": received.received_at,
                "body": received.body,
            }
            self._record.write(json.dumps(line) + "\n")
            self._record.flush()  # what was answered 204 is on file
        return 204, b""

    def verify(self, recipient: str, headers: Mapping[str, str], body: bytes) -> str | None:
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
        if self._record is not None:
            self._record.close()
            self._record = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
