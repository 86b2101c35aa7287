"""How fast the whole pipeline is, beside what the same broker and database do raw.

On a stack of its own (profile ``bench``, started from an empty state and stopped at the end),
with the load offered by a separate process (``loadgen``) as realistic declarations of a mass
campaign (every region and structure type, a compromised software vendor shared by a third of
them, indicators and free text):

- raw limits of the machine: aiokafka produce-then-consume on the broker (``acks=all``, the
  declaration event's size) and asyncpg committed transactions on the database;
- intake: achieved rate and latency p50 / p99 / max at fixed offered rates;
- end to end: from ``POST`` to the ARS webhook receiver, p50 / p99, at a fixed rate;
- the highest offered rate at which no backlog grows (consumer groups, outboxes, deliveries);
- the highest intake rate sustained for a minute;
- stats rebuild: events replayed per second;
- peak resident memory of each service;

then the ratios of the pipeline's figures to the raw ones, which are what compare across runs.

    vigie-stack bench pipeline [--quick]
"""

import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from vigie_contracts.territory import REGIONS
from vigie_contracts.topics import ALL_TOPICS

from ..config import SERVICES
from ..process import is_running
from ..samples import STRUCTURE_NAMES, declaration, finess_in
from ..stack import Stack

# What production would run: every span made, one trace in a hundred kept.
SERVICE_ENV = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.01",
}
CATEGORIES = ["ransomware", "phishing", "account_compromise", "malware", "intrusion", "data_theft", "technical_failure"]
VENDOR = "Éditeur DPI Hexagone"


def _print(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a benchmark prints its figures


def campaign_declarations(count: int, *, seed: int = 1000) -> list[dict[str, Any]]:
    """A mass campaign: a third of the structures use the compromised vendor's software and say
    so, with its command-and-control domain; the others declare the incidents of any day."""
    rng = random.Random(seed)  # noqa: S311 - reproducible load, not secrets
    regions, types = list(REGIONS), list(STRUCTURE_NAMES)
    result = []
    for index in range(count):
        vendor = index % 3 == 0
        category = "provider_incident" if vendor else rng.choice(CATEGORIES)
        body = declaration(
            finess=finess_in(regions[index % len(regions)], 200000 + index),
            structure_type=types[index % len(types)],
            category=category,
            origin="accidental" if category == "technical_failure" else "malicious",
            degraded_mode=rng.random() < 0.4,
            patient_safety=rng.choice(["none", "none", "potential", "proven"]),
            support_requested=rng.random() < 0.3,
            essential_operator=rng.random() < 0.2,
            description=(
                f"Le logiciel de dossier patient de {VENDOR} se connecte à hxxps://maj-dpi-hexagone[.]top/agent ;"
                " postes chiffrés, messagerie coupée, urgences en mode dégradé."
                if vendor
                else f"Incident {category} détecté par l'équipe informatique ; analyse en cours,"
                f" {rng.randrange(1, 400)} postes concernés."
            ),
            indicators=[{"type": "domain", "value": "maj-dpi-hexagone.top"}] if vendor else [],
        )
        if vendor:
            body["provider"] = {"name": VENDOR}
        result.append(body)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _spread(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": _ms(percentile(latencies, 50)),
        "p99": _ms(percentile(latencies, 99)),
        "max": _ms(max(latencies, default=float("nan"))),
    }


class Bench:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.work = stack.config.state / "bench"
        self.bodies = self.work / "bodies.jsonl"
        self.offset = 0
        self.token = ""

    # --- the load ---------------------------------------------------------------------------

    def offer(self, rate: float, seconds: float) -> list[list[Any]]:
        """Offer ``rate`` declarations a second for ``seconds`` from the load generator process."""
        out = self.work / f"load-{rate:g}-{time.time_ns()}.json"
        subprocess.run(  # noqa: S603 - our own module, our own arguments
            [
                sys.executable,
                "-m",
                "vigie_stack.bench.loadgen",
                "--url",
                self.stack.config.service_url("declaration"),
                "--token",
                self.token,
                "--rate",
                str(rate),
                "--seconds",
                str(seconds),
                "--bodies",
                str(self.bodies),
                "--offset",
                str(self.offset),
                "--out",
                str(out),
            ],
            check=True,
        )
        self.offset += int(rate * seconds)
        rows: list[list[Any]] = json.loads(out.read_text())
        out.unlink()
        return rows

    @staticmethod
    def intake_figures(rows: list[list[Any]], rate: float, seconds: float) -> dict[str, Any]:
        latencies = [row[1] for row in rows if row[2] == 202]
        answered = [row for row in rows if row[2]]
        finished = max((row[0] + row[1] for row in answered), default=0.0) - min((row[0] for row in rows), default=0.0)
        shed = sum(1 for row in rows if row[2] == 503)
        return {
            "offered_per_second": rate,
            "seconds": seconds,
            "requests": len(rows),
            "accepted": len(latencies),
            # Answered 503 with Retry-After: the intake was full, nothing was recorded.
            "shed": shed,
            "errors": len(rows) - len(latencies),
            "achieved_per_second": round(len(latencies) / finished, 1) if finished else 0.0,
            "latency_ms": _spread(latencies),
            "every_answer_latency_ms": _spread([row[1] for row in answered]),
        }

    # --- what the pipeline holds ----------------------------------------------------------

    async def backlog(self) -> dict[str, int]:
        """Messages not yet committed by each consumer group, events waiting in each outbox,
        deliveries not yet made."""
        config = self.stack.config
        admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=config.kafka_bootstrap)
        await admin.start()
        await consumer.start()
        waiting: dict[str, int] = {}
        try:
            groups = [group for group, _ in await admin.list_consumer_groups() if not group.startswith("bench")]
            for group in groups:
                committed = await admin.list_consumer_group_offsets(group)
                if not committed:
                    continue
                ends = await consumer.end_offsets(list(committed))
                waiting[group] = sum(max(ends[tp] - max(meta.offset, 0), 0) for tp, meta in committed.items())
        finally:
            await consumer.stop()
            await admin.close()
        for service in ("declaration", "enrichment", "notification"):
            waiting[f"{service} outbox"] = int(await self.scalar(service, "SELECT count(*) FROM outbox"))
        waiting["deliveries"] = int(
            await self.scalar(
                "notification", "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending', 'retrying')"
            )
        )
        return waiting

    async def integrity(self) -> dict[str, int]:
        """What became of every accepted declaration, once the pipeline has drained: figures
        from a run that dead-lettered or dropped work would flatter it."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.config.kafka_bootstrap)
        await consumer.start()
        try:
            dead_letters = [
                TopicPartition(topic.dead_letter, partition)
                for topic in ALL_TOPICS
                for partition in range(topic.partitions)
            ]
            dead_lettered = sum((await consumer.end_offsets(dead_letters)).values())
        finally:
            await consumer.stop()
        return {
            "declarations": int(await self.scalar("declaration", "SELECT count(*) FROM declarations")),
            "enriched": int(await self.scalar("enrichment", "SELECT count(DISTINCT declaration_id) FROM enrichments")),
            "notified": int(
                await self.scalar("declaration", "SELECT count(*) FROM declarations WHERE status = 'notified'")
            ),
            "dead_lettered_messages": dead_lettered,
            "failed_deliveries": int(
                await self.scalar("notification", "SELECT count(*) FROM deliveries WHERE status = 'failed'")
            ),
        }

    async def scalar(self, service: str, sql: str) -> Any:
        connection = await asyncpg.connect(self.stack.postgres.dsn(service))
        try:
            return await connection.fetchval(sql)
        finally:
            await connection.close()

    def drain(self, timeout: float = 600.0) -> float:
        """Wait until nothing is left anywhere in the pipeline; returns how long it took."""
        started = time.monotonic()
        idle_in_a_row = 0
        while time.monotonic() - started < timeout:
            # The stages are read one after the other, so work moving on between two reads could
            # look like nothing: idle twice in a row is idle.
            idle_in_a_row = idle_in_a_row + 1 if not any(asyncio.run(self.backlog()).values()) else 0
            if idle_in_a_row == 2:
                return time.monotonic() - started
            time.sleep(0.3)
        raise TimeoutError(f"the pipeline did not drain within {timeout:.0f}s: {asyncio.run(self.backlog())}")

    def ars_received(self) -> dict[str, float]:
        """When the ARS of each declaration got its first webhook, by reference."""
        received: dict[str, float] = {}
        path = self.stack.config.state / "received.jsonl"
        if not path.is_file():
            return received
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["recipient"].startswith("ars-") and entry["body"]["revision"] == 1:
                reference = entry["body"]["reference"]
                received[reference] = min(received.get(reference, entry["received_at"]), entry["received_at"])
        return received

    # --- the measures ---------------------------------------------------------------------

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each part of the stack: each service, the stand-in receiver
        and mail server, Kafka, Zipkin, and PostgreSQL (the server and all its backends)."""
        stack = self.stack
        roots = {name: stack.services[name].pid_file for name in SERVICES}
        roots |= {
            "receiver": stack.receiver_pid_file,
            "kafka": stack.kafka.pid_files[0],
            "zipkin": stack.zipkin.pid_file,
        }
        pids = {part: is_running(path) for part, path in roots.items()}
        postmaster = stack.postgres.data / "postmaster.pid"
        if postmaster.is_file():
            pids["postgresql"] = int(postmaster.read_text().split()[0])
        owner = {pid: part for part, pid in pids.items() if pid}
        clock = os.sysconf("SC_CLK_TCK")
        used: dict[str, float] = dict.fromkeys(owner.values(), 0.0)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            part = owner.get(int(proc.name)) or owner.get(int(fields[1]))  # the process, or its parent's
            if part is not None:
                used[part] += (int(fields[11]) + int(fields[12])) / clock
        return used

    def end_to_end(self, rate: float, seconds: float) -> dict[str, Any]:
        cpu_before = self.cpu_seconds()
        rows = self.offer(rate, seconds)
        self.drain(timeout=1800)
        cpu_after = self.cpu_seconds()
        received = self.ars_received()
        delays = [received[row[3]] - row[0] for row in rows if row[3] in received]
        accepted = sum(1 for row in rows if row[2] == 202) or 1
        return {
            "cpu_ms_per_declaration": {
                part: round((cpu_after[part] - cpu_before.get(part, 0.0)) * 1000 / accepted, 2)
                for part in sorted(cpu_after)
            },
            "offered_per_second": rate,
            "seconds": seconds,
            "declarations": sum(1 for row in rows if row[2] == 202),
            "shed": sum(1 for row in rows if row[2] == 503),
            "notified": len(delays),
            "post_to_ars_webhook_ms": _spread(delays),
        }

    def sustained(self, rates: list[float], seconds: float) -> dict[str, Any]:
        """Step the offered rate up; a rate is sustained when every request is taken and what is
        left in the pipeline at the end of the step (the declarations in flight) is gone within
        five seconds: a backlog that grew during the step takes longer to drain."""
        steps = []
        best = 0.0
        for rate in rates:
            rows = self.offer(rate, seconds)
            waiting = asyncio.run(self.backlog())
            behind = sum(waiting.values())
            intake = self.intake_figures(rows, rate, seconds)
            drained = self.drain()
            kept_up = intake["errors"] == 0 and drained <= 5.0
            steps.append(
                {
                    "offered_per_second": rate,
                    "intake_achieved_per_second": intake["achieved_per_second"],
                    # Answered 503 (the intake full) or not answered at all: not taken.
                    "not_taken": intake["errors"],
                    "waiting_at_end": waiting,
                    "drain_seconds": round(drained, 1),
                    "kept_up": kept_up,
                }
            )
            where = ", ".join(f"{k} {v}" for k, v in waiting.items() if v) or "nothing"
            _print(
                f"  {rate:>6g}/s offered: intake {intake['achieved_per_second']:>7.1f}/s,"
                f" {intake['errors']} not taken ({intake['shed']} answered 503),"
                f" waiting at the end {behind:>6} ({where}), drained in {drained:.1f}s"
                f" → {'kept up' if kept_up else 'fell behind'}"
            )
            if not kept_up:
                break
            best = rate
        return {"highest_rate_without_backlog_per_second": best, "step_seconds": seconds, "steps": steps}

    def rebuild(self) -> dict[str, Any]:
        done = self.stack.services["stats"].command("rebuild")
        match = re.search(r"Replayed (\d+) events .* in ([\d.]+)s: (\d+) events/s", done.stdout)
        if done.returncode != 0 or match is None:
            raise RuntimeError(f"stats rebuild: {done.stdout}{done.stderr}")
        return {
            "events": int(match[1]),
            "seconds": float(match[2]),
            "events_per_second": int(match[3]),
            "identical_to_live": "differ" not in done.stdout,
        }

    def peak_memory(self) -> dict[str, float]:
        """Each service's peak resident set since it started (VmHWM), in MB."""
        peaks = {}
        for name in SERVICES:
            pid = is_running(self.stack.services[name].pid_file)
            status = Path(f"/proc/{pid}/status").read_text() if pid else ""
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            peaks[name] = round(int(match[1]) / 1024, 1) if match else float("nan")
        return peaks

    # --- the machine's own limits ---------------------------------------------------------

    async def raw_kafka(self, count: int, size: int) -> dict[str, Any]:
        """Produce ``count`` messages of ``size`` bytes (acks=all, idempotent) onto a 6-partition
        topic, then consume them all: what the broker does without the pipeline."""
        bootstrap = self.stack.config.kafka_bootstrap
        topic = f"bench.raw.{uuid4().hex[:8]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
            payload = os.urandom(size // 2).hex().encode()
            producer = AIOKafkaProducer(
                bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, compression_type="zstd"
            )
            await producer.start()
            started = time.perf_counter()
            try:
                futures = [await producer.send(topic, payload, key=str(i).encode()) for i in range(count)]
                await asyncio.gather(*futures)
            finally:
                await producer.stop()
            produced = time.perf_counter() - started
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
            await consumer.start()
            started = time.perf_counter()
            try:
                consumer.assign([TopicPartition(topic, p) for p in range(6)])
                await consumer.seek_to_beginning()
                seen = 0
                while seen < count:
                    batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                    seen += sum(len(records) for records in batch.values())
            finally:
                await consumer.stop()
            consumed = time.perf_counter() - started
            await admin.delete_topics([topic])
        finally:
            await admin.close()
        return {
            "messages": count,
            "message_bytes": size,
            "produce_per_second": round(count / produced),
            "consume_per_second": round(count / consumed),
            "produce_then_consume_per_second": round(count / (produced + consumed)),
        }

    async def raw_postgres(self, seconds: float, connections: int, size: int) -> dict[str, Any]:
        """Committed one-row transactions a second (``synchronous_commit`` as configured: on)."""
        dsn = self.stack.postgres.dsn("declaration")
        setup = await asyncpg.connect(dsn)
        await setup.execute("CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
        body = json.dumps({"padding": "x" * max(size - 20, 0)})
        commits = 0
        deadline = time.perf_counter() + seconds

        async def writer() -> None:
            nonlocal commits
            connection = await asyncpg.connect(dsn)
            try:
                while time.perf_counter() < deadline:
                    async with connection.transaction():
                        await connection.execute("INSERT INTO bench_raw (body) VALUES ($1::jsonb)", body)
                    commits += 1
            finally:
                await connection.close()

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(connections)))
        elapsed = time.perf_counter() - started
        await setup.execute("DROP TABLE bench_raw")
        await setup.close()
        return {
            "connections": connections,
            "row_bytes": size,
            "committed_transactions_per_second": round(commits / elapsed),
        }


def run(stack: Stack, *, results: Path, quick: bool = False) -> dict[str, Any]:  # noqa: PLR0915 - one script
    """The whole benchmark; ``quick`` runs every measure briefly (to try the command)."""
    scale = 0.25 if quick else 1.0
    stack.reset()
    bench = Bench(stack)
    figures: dict[str, Any] = {"benchmark": "pipeline", "at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        # Inside the try: a broker that fails to start must not leave the database running.
        stack.start_infrastructure()
        stack.start_receiver()
        stack.start_services()
        stack.load_intel_samples()
        bench.work.mkdir(parents=True, exist_ok=True)
        bodies = campaign_declarations(60_000)
        bench.bodies.write_text("\n".join(json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in bodies))
        event_bytes = int(statistics.mean(len(json.dumps(b).encode()) for b in bodies[:300])) + 400
        # Its declarants' domain registered: each declaration is acknowledged, as a partner's is.
        bench.token = stack.credential(
            "--kind",
            "partner",
            "--name",
            "Banc d'essai",
            "--departement",
            "*",
            "--rate",
            "100000000",
            "--mail-domain",
            "structure.example.fr",
        )["secret"]

        _print("Raw limits of this machine …")
        figures["raw_kafka"] = asyncio.run(bench.raw_kafka(int(100_000 * scale), event_bytes))
        figures["raw_postgres"] = asyncio.run(bench.raw_postgres(10 * scale, 16, event_bytes))
        _print(f"  aiokafka: {figures['raw_kafka']}")
        _print(f"  asyncpg:  {figures['raw_postgres']}")

        _print("Warming up …")
        bench.offer(50, 5)
        bench.drain()

        _print("Intake at fixed rates (the pipeline working behind it) …")
        figures["intake"] = []
        for rate in (100, 500, 1000):
            seconds = 10 * scale
            intake = bench.intake_figures(bench.offer(rate, seconds), rate, seconds)
            figures["intake"].append(intake)
            _print(
                f"  {rate:>5}/s offered: {intake['achieved_per_second']:>7.1f}/s accepted, latency p50"
                f" {intake['latency_ms']['p50']} ms, p99 {intake['latency_ms']['p99']} ms,"
                f" max {intake['latency_ms']['max']} ms; {intake['shed']} shed (503, p99 of every answer"
                f" {intake['every_answer_latency_ms']['p99']} ms), {intake['errors'] - intake['shed']} other errors"
                " or unanswered"
            )
        bench.drain(timeout=1800)

        _print("End to end at 200 declarations/s …")
        figures["end_to_end"] = bench.end_to_end(200, 20 * scale)
        _print(f"  {figures['end_to_end']}")

        _print("Highest rate with no growing backlog …")
        figures["sustained"] = bench.sustained(
            [10, 15, 20, 25, 35, 40, 45, 50, 75, 100, 150, 200, 300, 500, 750, 1000], 20 * scale
        )

        _print("Highest intake rate sustained for a minute …")
        # The intake takes more than the pipeline behind it can follow (see the fixed rates); for a
        # whole minute, what holds is the highest rate the pipeline itself sustained.
        best = figures["sustained"]["highest_rate_without_backlog_per_second"] or 5.0
        minute = bench.intake_figures(bench.offer(best, 60 * scale), best, 60 * scale)
        # Sustained: every request taken, and the last ones answered within a second of the end.
        minute["sustained"] = minute["errors"] == 0 and minute["latency_ms"]["p99"] < 1000
        figures["intake_sustained_minute"] = minute
        _print(f"  {minute}")
        bench.drain(timeout=1800)

        _print("Stats rebuild …")
        figures["stats_rebuild"] = bench.rebuild()
        _print(f"  {figures['stats_rebuild']}")
        figures["peak_memory_mb"] = bench.peak_memory()
        _print(f"  peak memory (MB): {figures['peak_memory_mb']}")
        figures["integrity"] = asyncio.run(bench.integrity())
        _print(f"  what became of the accepted declarations: {figures['integrity']}")
        # Events per second moves with how many events tell a declaration (notification.dispatched
        # v2 tells a revision's outcomes in one): declarations replayed per second compares runs.
        rebuilt = figures["stats_rebuild"]
        rebuilt["declarations_per_second"] = round(figures["integrity"]["declarations"] / rebuilt["seconds"])
        _print(f"  stats rebuild: {rebuilt['declarations_per_second']} declarations/s")
    finally:
        stack.down()

    raw_kafka = figures["raw_kafka"]["produce_then_consume_per_second"]
    raw_pg = figures["raw_postgres"]["committed_transactions_per_second"]
    sustained = figures["sustained"]["highest_rate_without_backlog_per_second"]
    intake_best = figures["intake_sustained_minute"]["achieved_per_second"]
    figures["ratios"] = {
        "pipeline_sustained_to_raw_kafka": round(sustained / raw_kafka, 4),
        "pipeline_sustained_to_raw_postgres": round(sustained / raw_pg, 4),
        "intake_sustained_to_raw_postgres": round(intake_best / raw_pg, 4),
        "rebuild_to_raw_kafka": round(figures["stats_rebuild"]["events_per_second"] / raw_kafka, 4),
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / "pipeline.json").write_text(json.dumps(figures, indent=2))
    _print("\nRatios to the machine's raw limits:", json.dumps(figures["ratios"]))
    _print(f"Figures written to {results / 'pipeline.json'}")
    check = figures["integrity"]
    if (
        check["dead_lettered_messages"]
        or check["failed_deliveries"]
        or not (check["declarations"] == check["enriched"] == check["notified"])
    ):
        raise SystemExit(f"the pipeline lost work during the run, its figures do not count: {check}")
    return figures
