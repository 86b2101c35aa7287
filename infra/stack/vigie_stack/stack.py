"""The whole local stack: PostgreSQL, Kafka (one node, or a cluster of three), Zipkin, the
stand-in receiver and the four services (one process each, or several behind HAProxy).

Starting it again starts what is not running and leaves what runs, reusing the state folder, so
data survives a restart; ``restart_services`` makes the services run new code, one instance at a
time; ``down`` stops every process and keeps the data; ``reset`` deletes it.
"""

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .balancer import Balancer
from .config import SERVICES, StackConfig
from .kafka import KafkaCluster
from .mailbox import SMTP_USER, local_tls, smtp_password
from .postgres import PostgresServer
from .process import is_running, spawn, stop, wait_for
from .receiver import write_directory
from .topics import provision_topics
from .zipkin import ZipkinServer

log = logging.getLogger(__name__)


@dataclass
class ServiceInstance:
    """One process of a service: the only one, or instance ``index`` of several."""

    name: str
    index: int
    stack: "Stack"

    @property
    def label(self) -> str:
        return self.name if not self.stack.config.balanced else f"{self.name}-{self.index + 1}"

    @property
    def pid_file(self) -> Path:
        return self.stack.config.state / "run" / f"{self.label}.pid"

    @property
    def log_file(self) -> Path:
        return self.stack.config.logs / f"{self.label}.log"

    @property
    def port(self) -> int:
        return self.stack.config.instance_port(self.name, self.index)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def running(self) -> bool:
        return is_running(self.pid_file) is not None

    def env(self) -> dict[str, str]:
        config = self.stack.config
        env = {
            **os.environ,
            "VIGIE_DATABASE_URL": self.stack.postgres.database_url(self.name),
            # Over the brokers' SASL_SSL listeners, verifying their certificate, as in production.
            "VIGIE_KAFKA_BOOTSTRAP_SERVERS": config.kafka_secure_bootstrap,
            "VIGIE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "VIGIE_KAFKA_SASL_USERNAME": config.kafka_user,
            "VIGIE_KAFKA_SASL_PASSWORD": config.kafka_password,
            "VIGIE_KAFKA_CA_FILE": str(local_tls(config).ca_file),
            "VIGIE_HTTP_PORT": str(self.port),
            "VIGIE_INSTANCE": self.label,
            # Behind the balancer, a stopping instance is taken out (its /health/serving answers
            # 503, checked every half second) before it stops accepting.
            "VIGIE_DRAIN_SECONDS": "1.5" if config.balanced else "0",
            "VIGIE_RECIPIENTS_FILE": str(config.recipients_file),
            "VIGIE_SMTP_HOST": "127.0.0.1",
            "VIGIE_SMTP_PORT": str(config.smtp_port),
            "VIGIE_SMTP_STARTTLS": "true",
            "VIGIE_SMTP_USERNAME": SMTP_USER,
            "VIGIE_SMTP_PASSWORD": smtp_password(config),
            "VIGIE_SMTP_CA_FILE": str(local_tls(config).ca_file),
            "VIGIE_SMTP_SENDER": "vigie@vigie.test",
            "VIGIE_METRICS_TOKEN_SHA256": config.metrics_token_sha256,
            # The local stack serves plain HTTP on loopback: a Secure cookie would never come back.
            "VIGIE_SESSION_COOKIE_SECURE": "false",
            # Spans go to the stack's Zipkin unless the environment names another backend.
            "OTEL_TRACES_EXPORTER": os.environ.get("OTEL_TRACES_EXPORTER", "zipkin"),
            "OTEL_EXPORTER_ZIPKIN_ENDPOINT": os.environ.get(
                "OTEL_EXPORTER_ZIPKIN_ENDPOINT", self.stack.zipkin.spans_endpoint
            ),
            "PYTHONUNBUFFERED": "1",
        }
        env.update(self.stack.service_env.get(self.name, {}))
        env.update(self.stack.service_env.get("*", {}))
        return env

    def start(self, *, wait: str | None = "ready", timeout: float = 60.0) -> None:
        if not self.running():
            spawn(
                [sys.executable, "-m", f"vigie_{self.name}"],
                pid_file=self.pid_file,
                log_file=self.log_file,
                env=self.env(),
                cwd=self.stack.config.root,
            )
        if wait is not None:
            self.wait(wait, timeout=timeout)

    def wait(self, probe: str = "ready", *, timeout: float = 60.0) -> None:
        url = f"{self.url}/health/{probe}"

        def answers() -> bool:
            if not self.running():
                raise RuntimeError(f"{self.label} exited; see {self.log_file}")
            try:
                return httpx.get(url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, timeout=timeout, what=f"service {self.label}", log_file=self.log_file)

    def stop(self, *, kill: bool = False) -> bool:
        return stop(self.pid_file, timeout=30.0, kill=kill)


@dataclass
class ServiceGroup:
    """A service's processes: one, or several behind the balancer, which takes the service's port."""

    name: str
    stack: "Stack"
    instances: list[ServiceInstance] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.instances = [ServiceInstance(self.name, n, self.stack) for n in range(self.stack.config.instances)]

    @property
    def url(self) -> str:
        return self.stack.config.service_url(self.name)

    @property
    def pid_file(self) -> Path:
        return self.instances[0].pid_file

    @property
    def log_file(self) -> Path:
        return self.instances[0].log_file

    def env(self) -> dict[str, str]:
        return self.instances[0].env()

    def running(self) -> bool:
        """Whether every instance runs."""
        return all(instance.running() for instance in self.instances)

    def start(self, *, wait: str | None = "ready", timeout: float = 60.0) -> None:
        for instance in self.instances:
            instance.start(wait=None)
        if wait is not None:
            self.wait(wait, timeout=timeout)

    def wait(self, probe: str = "ready", *, timeout: float = 60.0) -> None:
        for instance in self.instances:
            instance.wait(probe, timeout=timeout)

    def stop(self, *, kill: bool = False) -> bool:
        stopped = [instance.stop(kill=kill) for instance in self.instances]  # every one, not the first
        return any(stopped)

    def restart(self) -> None:
        """One instance after the other, each back and ready before the next goes: behind the
        balancer, the others serve meanwhile."""
        for instance in self.instances:
            instance.stop()
            instance.start()

    def command(self, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run one of the service's own commands (``credentials create …``) against this stack."""
        return subprocess.run(  # noqa: S603 - the arguments go to our own command-line parser
            [sys.executable, "-m", f"vigie_{self.name}", *args],
            env={**self.env(), **(env or {})},
            cwd=self.stack.config.root,
            capture_output=True,
            text=True,
            check=False,
        )


@dataclass
class Stack:
    config: StackConfig
    # Extra environment per service name ("*" for all), e.g. shorter retry delays in tests.
    service_env: dict[str, Mapping[str, str]] = field(default_factory=dict)
    receiver_url: str | None = None

    def __post_init__(self) -> None:
        self.kafka = KafkaCluster(self.config)
        self.postgres = PostgresServer(self.config)
        self.zipkin = ZipkinServer(self.config)
        self.balancer = Balancer(self.config)
        self.services = {name: ServiceGroup(name, self) for name in SERVICES}

    @property
    def receiver_pid_file(self) -> Path:
        return self.config.state / "run" / "receiver.pid"

    def start_infrastructure(self) -> None:
        """Start what is not running (nothing that runs is touched): the database, Kafka, Zipkin
        and, with several instances, the balancer. Tracing is never a reason not to start: a
        Zipkin that does not come up is said, and the stack goes on without it."""
        self.config.state.mkdir(parents=True, exist_ok=True)
        self.config.save_shape()
        self.zipkin.start(wait=False)
        self.postgres.start()
        self.postgres.provision()
        self.kafka.start()
        self.provision_topics()
        self.balancer.start()
        try:
            self.zipkin.wait()
        except (TimeoutError, RuntimeError) as error:
            log.warning("tracing is off for now, Zipkin did not start: %s", str(error).splitlines()[0])

    def provision_topics(self) -> list[str]:
        return asyncio.run(
            provision_topics(
                self.config.kafka_bootstrap,
                replication_factor=self.config.replication_factor,
                min_insync_replicas=self.config.min_insync_replicas,
            )
        )

    def start_receiver(self) -> None:
        """The stand-in ARS receiver as a process of its own (the dev stack's)."""
        url = self.receiver_url or f"http://127.0.0.1:{self.config.receiver_port}"
        write_directory(self.config, url)
        if is_running(self.receiver_pid_file) is None:
            spawn(
                [
                    sys.executable,
                    "-m",
                    "vigie_stack.cli",
                    "--profile",
                    self.config.name,
                    "receiver",
                ],
                pid_file=self.receiver_pid_file,
                log_file=self.config.logs / "receiver.log",
                cwd=self.config.root,
            )

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/hooks", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(
            answers,
            timeout=30,
            what="stand-in receiver",
            log_file=self.config.logs / "receiver.log",
        )

    def stray_services(self) -> list[Path]:
        """Pid files of service processes of another shape than this one's (a single process
        once several run, or the reverse): they hold ports this shape gives to others."""
        wanted = {instance.pid_file for group in self.services.values() for instance in group.instances}
        run = self.config.state / "run"
        found = [pid for name in SERVICES for pid in run.glob(f"{name}*.pid")] if run.is_dir() else []
        return [pid for pid in found if pid not in wanted]

    def start_services(self, names: Iterable[str] = SERVICES, *, wait: str | None = "ready") -> None:
        for stray in self.stray_services():
            stop(stray, timeout=30)
        for name in names:
            self.services[name].start(wait=None)
        if wait is not None:
            for name in names:
                self.services[name].wait(wait)

    def stop_services(self, names: Iterable[str] = SERVICES) -> None:
        for name in names:
            self.services[name].stop()

    def restart_services(self, names: Iterable[str] = SERVICES) -> None:
        """Restart the services to run the code as it is now: instance after instance, so that
        behind the balancer the others serve meanwhile."""
        for name in names:
            self.services[name].restart()

    def up(self) -> None:
        self.start_infrastructure()
        self.start_receiver()
        self.start_services()

    def down(self) -> None:
        self.stop_services()
        for stray in self.stray_services():
            stop(stray, timeout=30)
        self.balancer.stop()
        stop(self.receiver_pid_file, timeout=5)
        self.kafka.stop()
        self.postgres.stop()
        self.zipkin.stop()

    def reset(self) -> None:
        self.down()
        postgres_home = self.config.state / "postgres"
        if postgres_home.is_symlink():
            shutil.rmtree(postgres_home.resolve(), ignore_errors=True)
        shutil.rmtree(self.config.state, ignore_errors=True)

    def load_intel_samples(self) -> str:
        """Load the threat-intelligence samples shipped with enrichment (idempotent)."""
        done = self.services["enrichment"].command("intel", "load", "--samples")
        if done.returncode != 0:
            raise RuntimeError(f"intel load --samples: {done.stdout}{done.stderr}")
        return done.stdout

    def credential(self, *args: str) -> dict[str, str]:
        """Create a credential (``--kind … --name …``) and return its id, principal and secret."""
        done = self.services["declaration"].command("credentials", "create", "--json", *args)
        if done.returncode != 0:
            raise RuntimeError(f"credentials create {' '.join(args)}: {done.stdout}{done.stderr}")
        created: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
        return created

    def status(self) -> dict[str, bool]:
        return {
            "postgres": self.postgres.running(),
            **{
                ("kafka" if self.config.brokers == 1 else f"kafka-{node.node + 1}"): node.running()
                for node in self.kafka.nodes
            },
            "zipkin": self.zipkin.running(),
            "receiver": is_running(self.receiver_pid_file) is not None,
            **({"balancer": self.balancer.running()} if self.config.balanced else {}),
            **{instance.label: instance.running() for group in self.services.values() for instance in group.instances},
        }
