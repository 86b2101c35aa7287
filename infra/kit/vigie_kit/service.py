"""What every Vigie service process is: its settings, its database (migrated on start), its Kafka
broker with the channels it declares, the outbox relay, its idempotent subscriptions, background
workers, and an HTTP app with health endpoints. A service's ``bootstrap`` wires its own parts
onto one of these."""

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from .access import FailedAttempts, SecretsStayOutOfUrls, bearer_secret, client_address, same_secret
from .consumer import BatchHandler, NotBound, Subscription
from .db import Sessions, create_engine, sessions
from .errors import is_transient
from .http import Problem, health_router, install_problem_handlers
from .kafka import BrokerConnection, make_broker
from .messaging import Channels, Messaging
from .metrics import CONSUMER_LAG, Refresh, metrics_router
from .migrate import UNREACHABLE
from .outbox import OutboxRelay, measure_backlog
from .settings import ServiceSettings
from .telemetry import DatabaseSpans, setup_logging, setup_tracing

log = logging.getLogger(__name__)

Worker = Callable[["Service"], Awaitable[None]]
Drain = Callable[[], Awaitable[None]]

# How long a stopping service gives work under way to finish before cancelling it.
_DRAIN_SECONDS = 10.0


class NotStarted(RuntimeError):
    pass


class Service:
    def __init__(self, settings: ServiceSettings, *, migrations: Path, channels: Channels) -> None:
        self.settings = settings
        self.migrations = migrations
        self.publishes = bool(channels.publishes)
        self.broker = make_broker(settings)
        self.kafka = BrokerConnection(self.broker)
        self.messaging = Messaging(
            self.broker,
            channels,
            lambda: self.engine,
            max_records=settings.consumer_max_records,
            batch_timeout_ms=settings.consumer_batch_timeout_ms,
        )
        self.relay: OutboxRelay | None = None
        self._workers: list[Worker] = []
        self._drains: list[Drain] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._gauges: list[Refresh] = [self._measure_lag]
        if self.publishes:
            self._gauges.append(self._measure_outbox)
        self._engine: AsyncEngine | None = None
        self._sessions: Sessions | None = None
        # Failed authentications per client address, braked alike on every route that checks one.
        self.failed_attempts = FailedAttempts(settings.failed_authentications_per_minute)
        # Set on SIGTERM: /health/serving answers 503 while the process drains (see ``serve``).
        self.draining = False

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise NotStarted("the service's database is opened when the service starts")
        return self._engine

    @property
    def sessions(self) -> Sessions:
        if self._sessions is None:
            raise NotStarted("the service's database is opened when the service starts")
        return self._sessions

    def consume(self, handlers: Mapping[Subscription[Any], BatchHandler[Any]]) -> None:
        """Apply each subscription the service declares with its handler."""
        self.messaging.bind(handlers)

    def gauge(self, refresh: Refresh) -> Refresh:
        """Read ``refresh()`` into its gauges at every scrape of ``/metrics``."""
        self._gauges.append(refresh)
        return refresh

    async def _measure_lag(self) -> None:
        CONSUMER_LAG.clear()  # partitions revoked since the last scrape are no longer ours
        # At once: each asks the broker a few questions, and a scrape gives them two seconds in all.
        await asyncio.gather(*(processor.measure_lag() for processor in self.messaging.processors.values()))

    async def _measure_outbox(self) -> None:
        await measure_backlog(self.engine)

    def on_shutdown(self, close: Callable[[], Awaitable[None]]) -> None:
        """Close a resource of the service once everything else has stopped."""
        self._closers.append(close)

    def worker(self, worker: Worker, *, drain: Drain | None = None) -> Worker:
        """Run ``worker(service)`` for the life of the service (restarted if it crashes);
        ``drain`` is awaited at shutdown to let the work under way finish."""
        self._workers.append(worker)
        if drain is not None:
            self._drains.append(drain)
        return worker

    async def _open_database(self) -> None:
        for attempt in range(1, 61):
            unreachable = await self._migrate()
            if unreachable is None:
                break
            if attempt == 60:
                raise RuntimeError(f"database unreachable for a minute: {unreachable}")
            log.warning("database unreachable (%s), retrying", unreachable)
            await asyncio.sleep(1.0)
        engine = create_engine(self.settings.database_url, pool_size=self.settings.database_pool_size)
        self._engine = engine
        self._sessions = sessions(engine)

    async def _migrate(self) -> str | None:
        """Migrate the database in a process of its own (see ``vigie_kit.migrate``), its log lines
        passed into this service's; returns why the database could not be reached, or None once
        it is migrated."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vigie_kit.migrate",
            str(self.migrations),
            self.settings.service_name,
            env={
                **os.environ,
                "VIGIE_DATABASE_URL": self.settings.database_url,
                "VIGIE_LOG_LEVEL": self.settings.log_level,
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, said = await process.communicate()
        lines = said.decode(errors="replace").splitlines()
        last = _last_message(lines)
        if process.returncode == UNREACHABLE:
            return last.removeprefix("database unreachable: ")
        for line in lines:  # already JSON lines in this service's format, scrubbed
            sys.stderr.write(line + "\n")
        if process.returncode != 0:
            raise RuntimeError(f"migrating the database failed (exit status {process.returncode}): {last}")
        return None

    async def _supervise(self, name: str, worker: Worker) -> None:
        while True:
            try:
                await worker(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_transient(error):
                    # The database or the broker went away: expected, said once, no traceback.
                    log.warning("worker %s paused, its database or broker is unreachable (%s)", name, error)
                else:
                    log.exception("worker %s crashed; restarting it", name)
                await asyncio.sleep(1.0)

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        await self._open_database()
        tasks = [asyncio.create_task(self.kafka.run(), name="kafka-connection")]
        if self.publishes:
            self.relay = OutboxRelay(
                self.engine,
                self.messaging.publisher,
                self.kafka,
                batch_size=self.settings.outbox_batch_size,
                poll_seconds=self.settings.outbox_poll_seconds,
            )
            tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        for worker in self._workers:
            name = getattr(worker, "__name__", "worker")
            tasks.append(asyncio.create_task(self._supervise(name, worker), name=name))
        log.info("%s started", self.settings.service_name)
        try:
            yield
        finally:
            await self._shut_down(tasks)

    async def _shut_down(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop taking work, let the work under way finish and its events leave the outbox,
        then close. Whatever does not finish in time stays committed or uncommitted as a
        whole, and is picked up again at the next start."""
        for drain in self._drains:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(drain(), _DRAIN_SECONDS)
        for processor in self.messaging.processors.values():
            with contextlib.suppress(Exception):
                await processor.flush()
        for subscriber in self.broker.subscribers:
            with contextlib.suppress(Exception):
                await subscriber.stop()
        relay_task = next((t for t in tasks if t.get_name() == "outbox-relay"), None)
        if self.relay is not None and relay_task is not None and self.kafka.ready.is_set():
            self.relay.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(relay_task), _DRAIN_SECONDS)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.kafka.close()
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()
        await self.engine.dispose()
        log.info("%s stopped", self.settings.service_name)

    async def database_ready(self) -> bool:
        async with self.engine.connect() as connection:
            return bool(await connection.scalar(sa.text("SELECT 1")) == 1)

    async def kafka_ready(self) -> bool:
        return self.kafka.ready.is_set() and await self.broker.ping(timeout=1.5)

    def app(self, *, title: str, description: str, version: str = "1.0.0") -> FastAPI:
        """The service's HTTP app; tracing and logging are set up here, at start, not at import."""
        if unbound := self.messaging.unbound():
            raise NotBound(f"subscriptions declared without a handler: {', '.join(unbound)}")
        setup_logging(self.settings.service_name, self.settings.log_level, self.settings.instance)
        setup_tracing(self.settings.service_name)
        DatabaseSpans().instrument()  # type: ignore[no-untyped-call]
        app = FastAPI(
            title=title,
            description=description,
            version=version,
            lifespan=self.lifespan,
            # FastAPI's own tracing: the request, its dependencies, endpoint and serialisation.
            telemetry={"exclude": _unobserved, "metrics": False},
        )
        app.state.service = self
        install_problem_handlers(app)
        app.add_middleware(SecretsStayOutOfUrls)
        app.include_router(
            health_router({"database": self.database_ready, "kafka": self.kafka_ready}, lambda: not self.draining)
        )
        app.include_router(metrics_router(self._gauges, self._operator))
        return app

    async def _operator(self, request: Request) -> None:
        """The operators' scraper, known by the token whose SHA-256 the settings hold: metrics
        say how much each agency is told and how often it fails, which is nobody else's."""
        expected = self.settings.metrics_token_sha256
        if not expected:
            raise Problem(403, "metrics are served to the operators' scraper only; none is configured here")
        self.failed_attempts.check(request)
        secret = bearer_secret(request)
        if secret is None or not same_secret(secret, bytes.fromhex(expected)):
            self.failed_attempts.failed(client_address(request))
            raise Problem(
                401, "send the metrics token as Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"}
            )


def _unobserved(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes, which come every few seconds, make no traces."""
    path = str(scope.get("path", ""))
    return path.startswith("/health/") or path == "/metrics"


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run a service's app until it is told to stop, then shut down gently.

    On ``SIGTERM`` the process first drains: for ``drain_seconds`` it answers every request as
    usual while ``/health/serving`` says ``503``, so that a load balancer takes it out; then it
    stops accepting, finishes the requests under way (at most 10 s), lets its workers finish
    theirs, and exits. A second signal, or Ctrl-C, stops at once."""
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    service: Service = app.state.service
    _DrainingServer(config, service, settings.drain_seconds).run()


class _DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, service: Service, drain_seconds: float) -> None:
        super().__init__(config)
        self.service = service
        self.drain_seconds = drain_seconds
        self.drain_from: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.drain_seconds > 0 and self.drain_from is None:
            self.drain_from = time.monotonic()
            self.service.draining = True
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_from is not None and time.monotonic() - self.drain_from >= self.drain_seconds:
            if not self.should_exit:
                log.info("drained for %.1f s; no longer accepting", self.drain_seconds)
                # As uvicorn does with the signal it handles: raised again once shut down.
                self._captured_signals.append(signal.SIGTERM)
            self.should_exit = True
        return bool(await super().on_tick(counter))


def _last_message(lines: list[str]) -> str:
    """The message of the last JSON log line (and the last line of its traceback), or the line."""
    if not lines:
        return "no reason given"
    try:
        record = json.loads(lines[-1])
    except ValueError:
        return lines[-1]
    error = str(record.get("error", "")).strip().splitlines()
    return f"{record.get('message', '')}{': ' + error[-1] if error else ''}"
