"""The fault run: a steady load on a cluster while each fault is made in turn, counted from outside.

On a stack of its own (profile ``chaos``, started from an empty state: three Kafka nodes, two
instances of each service behind HAProxy), a client sends declarations at a steady rate, each
with its own ``Idempotency-Key``, and sends a request again with the same key after an error (a
refused connection, a ``5xx``, a ``429``), as a partner's system should. While it does, the faults
come one after the other:

- ``kill -9`` of each instance of each service, then its restart (what a supervisor does);
- one Kafka node killed for good, then restored; every node down at once, then back;
- PostgreSQL stopped abruptly (``pg_ctl stop -m immediate``), then started;
- the agencies' receivers failing (``500``), hanging (no answer), refusing (nothing listens, the
  mail server too);
- a rolling restart of every service.

Everything is counted where the outside world would see it: the webhooks the stand-in receiver
took on the wire and their distinct ``Vigie-Event-Id``, the e-mails the stand-in mail server took
and their distinct ``Message-ID``, the statistics, the dead-letter topics. A declaration counts
under the fault during which it was first sent. For each fault: what the client saw fail
(attempts answered with an error, and requests that never got through), the longest delay from
the first ``POST`` to the ARS's webhook, what was lost (a recipient never told) and what was
duplicated (a recipient told twice under two ids: a repeat of the same id is deduplicated by the
receiver, and shown apart).

    vigie-stack chaos           # every fault (about 11 minutes); the table goes to RELIABILITY.md
    vigie-stack chaos --quick   # a fault of each kind, briefly (make test runs it)
"""

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from vigie_contracts.territory import REGIONS
from vigie_contracts.topics import ALL_TOPICS

from .config import SERVICES, profile
from .mailbox import Mailbox, local_tls, smtp_password
from .receiver import CERT_SANTE, HFDS, Behaviour, WebhookReceiver, directory_secrets, write_directory
from .samples import declaration, finess_in
from .stack import Stack
from .topics import end_offsets

DECLARANT = "rssi@structure.example.fr"
# Shorter than production's, so that the run is minutes long: the delivery lease (a send cut by
# a crash is sent again after it), retries, and a webhook's timeout (a hanging agency).
SERVICE_ENV: dict[str, Mapping[str, str]] = {
    "*": {
        # Every span made, one trace in twenty kept: tracing at work without the run's CPU going to it.
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.05",
        "VIGIE_OUTBOX_POLL_SECONDS": "0.5",
    },
    "notification": {
        "VIGIE_RETRY_BASE_SECONDS": "0.5",
        "VIGIE_RETRY_MAX_SECONDS": "4",
        "VIGIE_MAX_ATTEMPTS": "60",
        "VIGIE_DELIVERY_LEASE_SECONDS": "10",
        "VIGIE_WEBHOOK_TIMEOUT_SECONDS": "3",
        "VIGIE_BREAKER_FAILURES": "5",
        "VIGIE_BREAKER_PROBE_SECONDS": "0.5",
        "VIGIE_BREAKER_COOLDOWN_SECONDS": "8",
    },
}
RESULTS_START = "<!-- chaos results: begin -->"
RESULTS_END = "<!-- chaos results: end -->"


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a command-line run reports as it goes


@dataclass
class Sent:
    """One declaration as the client lived it."""

    key: str
    phase: str
    first_at: float
    body: dict[str, Any]
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    accepted_at: float | None = None
    id: str | None = None
    reference: str | None = None


class Load:
    """A partner's system: a declaration every ``1 / rate`` seconds, each sent again with its key
    until it is accepted (backing off, as ``Retry-After`` asks), for at most ``patience`` seconds."""

    def __init__(self, url: str, secret: str, rate: float, *, patience: float = 240.0) -> None:
        self.url = url
        self.secret = secret
        self.rate = rate
        self.patience = patience
        self.phase = "warm-up"
        self.sent: list[Sent] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._serial = 0

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        async with httpx.AsyncClient(base_url=self.url, timeout=20, limits=limits) as client:
            started = time.monotonic()
            while not self._stop.is_set():
                self._serial += 1
                region = list(REGIONS)[self._serial % len(REGIONS)]
                body = declaration(finess=finess_in(region, 300_000 + self._serial))
                sent = Sent(key=f"chaos-{uuid4()}", phase=self.phase, first_at=time.time(), body=body)
                self.sent.append(sent)
                task = asyncio.create_task(self._send(client, sent))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                next_at = started + self._serial / self.rate
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(next_at - time.monotonic(), 0))
            if self._tasks:
                await asyncio.wait(set(self._tasks))

    def stop(self) -> None:
        self._stop.set()

    async def _send(self, client: httpx.AsyncClient, sent: Sent) -> None:
        headers = {"Authorization": f"Bearer {self.secret}", "Idempotency-Key": sent.key}
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            sent.attempts += 1
            wait = min(0.25 * 2 ** min(sent.attempts, 4), 3.0)
            try:
                response = await client.post("/v1/declarations", json=sent.body, headers=headers)
            except httpx.HTTPError as error:
                sent.errors.append(type(error).__name__)
            else:
                if response.status_code == 202:
                    accepted = response.json()
                    sent.id, sent.reference = accepted["id"], accepted["reference"]
                    sent.accepted_at = time.time()
                    return
                sent.errors.append(f"HTTP {response.status_code}")
                if response.status_code not in (408, 429, 502, 503, 504):
                    return  # refused for good: a client's bug, which nothing here should cause
                with contextlib.suppress(ValueError):
                    wait = min(float(response.headers.get("retry-after", wait)), 5.0)
            await asyncio.sleep(wait)


@dataclass
class Fault:
    name: str
    make: Callable[["Run"], Awaitable[None]]


@dataclass
class Run:
    stack: Stack
    receiver: WebhookReceiver
    mailbox: Mailbox
    load: Load
    quick: bool
    phases: list[tuple[str, float, float]] = field(default_factory=list)

    async def hold(self, seconds: float) -> None:
        await asyncio.sleep(seconds * (0.4 if self.quick else 1.0))

    async def off(self, work: Callable[[], Any]) -> Any:
        """Blocking stack work (stopping a process, waiting for it), while the load goes on."""
        return await asyncio.to_thread(work)


# --- the faults -------------------------------------------------------------------------------


def kill_instance(service: str, index: int) -> Fault:
    async def make(run: Run) -> None:
        instance = run.stack.services[service].instances[index]
        await run.off(lambda: instance.stop(kill=True))
        await run.hold(4)
        await run.off(instance.start)

    return Fault(f"kill -9 {service}-{index + 1}", make)


async def _one_broker(run: Run) -> None:
    node = run.stack.kafka.nodes[1]
    await run.off(lambda: node.stop(kill=True))
    await run.hold(20)
    await run.off(node.start)


async def _every_broker(run: Run) -> None:
    await run.off(lambda: run.stack.kafka.stop(kill=True))
    await run.hold(20)
    await run.off(run.stack.kafka.start)


async def _database(run: Run) -> None:
    await run.off(lambda: run.stack.postgres.stop(kill=True))
    await run.hold(10)
    await run.off(run.stack.postgres.start)


def _agencies(behaviour: Callable[[], Behaviour]) -> Callable[[Run], Awaitable[None]]:
    async def make(run: Run) -> None:
        for code in run.receiver.secrets:
            run.receiver.behaviour[code] = behaviour()
        await run.hold(15)
        run.receiver.behaviour.clear()

    return make


async def _refusing(run: Run) -> None:
    await run.off(run.receiver.stop)
    await run.off(run.mailbox.stop)
    await run.hold(15)
    await run.off(run.receiver.start)
    await run.off(run.mailbox.start)


def _rolling(*services: str) -> Callable[[Run], Awaitable[None]]:
    async def make(run: Run) -> None:
        await run.off(lambda: run.stack.restart_services(services))

    return make


def faults(quick: bool) -> list[Fault]:
    if quick:
        return [
            kill_instance("declaration", 0),
            kill_instance("notification", 1),
            Fault("one Kafka node killed, then restored", _one_broker),
            Fault("receivers refusing (webhooks and mail)", _refusing),
            Fault("rolling restart of declaration and notification", _rolling("declaration", "notification")),
        ]
    return [
        *(kill_instance(service, index) for service in SERVICES for index in range(2)),
        Fault("one Kafka node killed, then restored", _one_broker),
        Fault("every Kafka node down, then back", _every_broker),
        Fault("PostgreSQL stopped abruptly", _database),
        Fault("receivers failing (500)", _agencies(lambda: Behaviour(failures=10**9, status=500))),
        Fault("receivers hanging", _agencies(lambda: Behaviour(hang=True))),
        Fault("receivers refusing (webhooks and mail)", _refusing),
        Fault("rolling restart of every service", _rolling(*SERVICES)),
    ]


# --- counting from outside ----------------------------------------------------------------------

_HEADERS = BytesHeaderParser(policy=policy.default)  # subjects decoded (they carry "—")
_REFERENCE = re.compile(r"VIG-\d{4}-\d{6}")


@dataclass
class Tally:
    fault: str
    declarations: int = 0
    accepted: int = 0
    attempts_failed: int = 0
    never_accepted: int = 0
    longest_delay: float = 0.0
    lost: int = 0
    duplicated: int = 0
    repeated: int = 0  # the same id again on the wire: deduplicated by the receiver


def _agency_address(code: str) -> str:
    return f"alerte@{code}.vigie.test"


def count(run: Run, regions: dict[str, str]) -> tuple[list[Tally], dict[str, Any]]:
    """Per fault, from what the client lived and what the stand-ins received."""
    webhooks: dict[tuple[str, str], set[str]] = defaultdict(set)
    told_at: dict[str, float] = {}
    for recipient, items in run.receiver.received.items():
        for item in items:
            reference = item.body["reference"]
            webhooks[(reference, recipient)].add(item.event_id)
            if recipient.startswith("ars-"):
                told_at[reference] = min(told_at.get(reference, item.received_at), item.received_at)
    mails: dict[tuple[str, str], set[str]] = defaultdict(set)
    for address, contents in run.mailbox.raw.items():
        for content in contents:
            headers = _HEADERS.parsebytes(content)
            found = _REFERENCE.search(str(headers["Subject"]))
            if found:
                mails[(found.group(0), address)].add(str(headers["Message-ID"]))
    webhook_repeats = set(run.receiver.duplicates)
    mail_repeats = set(run.mailbox.duplicates)
    tallies = {name: Tally(name) for name, _, _ in run.phases}
    for sent in run.load.sent:
        tally = tallies.setdefault(sent.phase, Tally(sent.phase))
        tally.declarations += 1
        tally.attempts_failed += len(sent.errors)
        if sent.reference is None:
            tally.never_accepted += 1
            continue
        tally.accepted += 1
        ars = REGIONS[regions[sent.reference]].ars_code if sent.reference in regions else None
        expected_hooks = [code for code in (ars, CERT_SANTE, HFDS) if code]
        expected_mails = [*(_agency_address(code) for code in expected_hooks), DECLARANT]
        told = [webhooks.get((sent.reference, code), set()) for code in expected_hooks]
        told += [mails.get((sent.reference, address), set()) for address in expected_mails]
        tally.lost += sum(1 for ids in told if not ids) + (0 if ars else 1)
        tally.duplicated += sum(len(ids) - 1 for ids in told if len(ids) > 1)
        tally.repeated += sum(1 for ids in told for i in ids if i in webhook_repeats or i in mail_repeats)
        if sent.reference in told_at:
            tally.longest_delay = max(tally.longest_delay, told_at[sent.reference] - sent.first_at)
    totals = {
        "webhooks_received": sum(len(items) for items in run.receiver.received.values()),
        "webhook_ids": len({i for ids in webhooks.values() for i in ids}),
        "webhooks_repeated_same_id": len(run.receiver.duplicates),
        "emails_received": sum(len(contents) for contents in run.mailbox.raw.values()),
        "email_ids": len({i for ids in mails.values() for i in ids}),
        "emails_repeated_same_id": len(run.mailbox.duplicates),
        "signatures_refused": len(run.receiver.rejected),
    }
    return [tallies[name] for name in tallies], totals


async def _dead_letters(bootstrap: str) -> int:
    return sum((await end_offsets(bootstrap, [spec.dead_letter for spec in ALL_TOPICS])).values())


# --- the run ----------------------------------------------------------------------------------


async def _drive(run: Run, national: httpx.AsyncClient, fault_list: list[Fault]) -> dict[str, str]:
    load_task = asyncio.create_task(run.load.run())
    try:
        await run.hold(10)  # steady before the first fault
        run.phases.append(("warm-up", 0.0, time.time()))
        for fault in fault_list:
            run.load.phase = fault.name
            began = time.time()
            _print(f"  {fault.name} …")
            await fault.make(run)
            await run.hold(8)  # the load goes on while the system recovers
            run.phases.append((fault.name, began, time.time()))
        run.load.phase = "after the faults"
        await run.hold(6)
        run.phases.append(("after the faults", time.time(), time.time()))
    finally:
        run.load.stop()
        await load_task
    return await _settle(run, national)


async def _settle(run: Run, national: httpx.AsyncClient, timeout: float = 240.0) -> dict[str, str]:
    """Wait until every accepted declaration is notified (or the time is up); their regions."""
    waiting = {sent.id: sent.reference for sent in run.load.sent if sent.id}
    regions: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for declaration_id in list(waiting)[:200]:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                state = (await national.get(f"/v1/declarations/{declaration_id}")).json()
                regions[state["reference"]] = state["region"]["code"]
                if state["status"] == "notified":
                    waiting.pop(declaration_id)
        await asyncio.sleep(1.0)
    await asyncio.sleep(3.0)  # acknowledgements after the status: e-mails last
    return regions


def _table(tallies: list[Tally]) -> list[str]:
    rows = [
        "| fault | declarations | client errors (attempts failed / never accepted) | longest POST → ARS webhook |"
        " lost | duplicated | same id again (deduplicated) |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in tallies:
        rows.append(
            f"| {t.fault} | {t.declarations} | {t.attempts_failed} / {t.never_accepted} | {t.longest_delay:.1f} s"
            f" | {t.lost} | {t.duplicated} | {t.repeated} |"
        )
    return rows


def run_chaos(*, quick: bool, rate: float | None = None, results: Path | None = None) -> bool:
    """The whole run; True when nothing was lost or duplicated, nothing went to a dead-letter
    topic, the statistics count each accepted declaration once, and the rolling restart cost the
    client nothing."""
    config = profile("chaos").with_shape(brokers=3, instances=2)
    stack = Stack(config, service_env=SERVICE_ENV)
    rate = rate or (4.0 if quick else 8.0)
    stack.reset()
    config.save_shape()
    receiver_url = f"http://127.0.0.1:{config.receiver_port}"
    write_directory(config, receiver_url)
    receiver = WebhookReceiver(directory_secrets(config.recipients_file), port=config.receiver_port)
    mailbox = Mailbox(config.smtp_port, local_tls(config), smtp_password(config))
    started = time.time()
    try:
        _print(f"A stack of its own: 3 Kafka nodes, 2 instances of each service ({config.state}) …")
        stack.start_infrastructure()
        receiver.start()
        mailbox.start()
        stack.start_services()
        partner = stack.credential(
            "--kind", "partner", "--name", "Charge continue", "--departement", "*", "--rate", "1000000",
            "--mail-domain", "structure.example.fr",
        )  # fmt: skip
        cert = stack.credential("--kind", "national", "--name", "CERT Santé (chaos)", "--rate", "1000000")
        load = Load(config.service_url("declaration"), partner["secret"], rate)
        run = Run(stack, receiver, mailbox, load, quick)
        _print(f"Load: {rate:g} declarations/s, each sent again with its key after an error. Faults:")
        fault_list = faults(quick)

        async def main() -> tuple[dict[str, str], dict[str, Any], int]:
            headers = {"Authorization": f"Bearer {cert['secret']}"}
            async with httpx.AsyncClient(base_url=config.service_url("declaration"), headers=headers, timeout=20) as n:
                regions = await _drive(run, n, fault_list)
                stats = await _national_count(config.service_url("stats"), cert["secret"])
            return regions, {"stats_total": stats}, await _dead_letters(config.kafka_bootstrap)

        regions, extra, dead = asyncio.run(main())
        tallies, totals = count(run, regions)
    finally:
        with contextlib.suppress(Exception):
            receiver.stop()
        with contextlib.suppress(Exception):
            mailbox.stop()
        stack.down()

    accepted = sum(t.accepted for t in tallies)
    rolling = next(t for t in tallies if t.fault.startswith("rolling restart"))
    ok = (
        all(t.lost == 0 and t.duplicated == 0 for t in tallies)
        and dead == 0
        and extra["stats_total"] == accepted
        and rolling.attempts_failed == 0
        and rolling.never_accepted == 0
        and totals["signatures_refused"] == 0
    )
    table = _table(tallies)
    summary = (
        f"{accepted} declarations accepted of {sum(t.declarations for t in tallies)} sent;"
        f" webhooks {totals['webhooks_received']} received, {totals['webhook_ids']} distinct ids"
        f" ({totals['webhooks_repeated_same_id']} repeats of an id, deduplicated); e-mails"
        f" {totals['emails_received']} received, {totals['email_ids']} distinct Message-IDs"
        f" ({totals['emails_repeated_same_id']} repeats); statistics up by {extra['stats_total']};"
        f" dead letters {dead}; run {round(time.time() - started)} s."
    )
    verdict = "PASS: nothing lost, nothing duplicated" if ok else "FAIL"
    _print("\n".join(["", *table, "", summary, "", verdict]))
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(
            json.dumps(
                {
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "quick": quick,
                    "rate": rate,
                    "tallies": [t.__dict__ for t in tallies],
                    "totals": totals,
                    "dead_letters": dead,
                    **extra,
                    "ok": ok,
                },
                indent=2,
            )
        )
    if not quick:
        _record(config.root / "RELIABILITY.md", table, summary, rate)
    return ok


async def _national_count(url: str, secret: str) -> int:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {secret}"}, timeout=20) as stats:
        body = (await stats.get("/v1/stats", params={"group_by": "region"})).json()
        return int(body["total"])


def _record(path: Path, table: list[str], summary: str, rate: float) -> None:
    """The last full run's table, in RELIABILITY.md between its markers."""
    if not path.is_file():
        return
    text = path.read_text()
    if RESULTS_START not in text or RESULTS_END not in text:
        return
    head, rest = text.split(RESULTS_START, 1)
    _, tail = rest.split(RESULTS_END, 1)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = "\n".join(
        [
            RESULTS_START,
            "",
            f"Last full run: {when}, {rate:g} declarations/s offered.",
            "",
            *table,
            "",
            summary,
            "",
            RESULTS_END,
        ]
    )
    path.write_text(head + block + tail)
