"""A real Apache Kafka broker in KRaft mode, from the official artifacts on Maven Central.

``mvn`` resolves ``org.apache.kafka:kafka_2.13`` (version pinned in ``infra/kafka/pom.xml``) and
its dependencies into the local Maven cache and copies them into ``.state/cache``; the storage is
formatted once, and the one broker (also its own controller) listens on loopback only.

The services reach it as production does, on a SASL_SSL listener: TLS with the stack's own
certificate, and SCRAM-SHA-512 authentication of the user ``vigie`` (its password generated into
the state folder's secrets). A plain listener beside it serves the stack's own tools (topic
provisioning, the tests' inspection of topics); a production cluster has none.
"""

import subprocess
import uuid
from pathlib import Path

from .config import StackConfig
from .mailbox import local_tls
from .maven import MavenComponent
from .process import is_running, port_open, spawn, stop, wait_for

_LOG4J2 = """\
Configuration:
  Appenders:
    RollingFile:
      name: file
      fileName: "{log}"
      filePattern: "{log}.%i"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
      SizeBasedTriggeringPolicy:
        size: 20MB
      DefaultRolloverStrategy:
        max: 3
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: file
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.storage.internals.log
        level: WARN
"""


class KafkaBroker:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.maven = MavenComponent(config, "kafka")
        self.version = self.maven.version
        self.home = config.state / "kafka"
        self.data = self.home / "data"
        self.libs = self.maven.libs
        self.pid_file = self.home / "kafka.pid"
        self.log_file = config.logs / "kafka.log"

    def install(self) -> None:
        """Fetch the broker's jars with Maven (once per version)."""
        self.maven.install()

    def _java(self, main: str, *args: str, jvm: tuple[str, ...] = ("-Xmx64m",)) -> list[str]:
        return [
            "java",
            *jvm,
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.yaml'}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def _keystore(self) -> Path:
        """The broker's key and certificate chain in one PEM file, the key in PKCS#8, as Kafka's
        PEM key store reads them."""
        tls = local_tls(self.config)
        keystore = self.home / "broker.pem"
        keystore.write_bytes(tls.key_file.read_bytes() + tls.cert_file.read_bytes())
        keystore.chmod(0o600)
        return keystore

    def _write_config(self) -> Path:
        c = self.config
        self.home.mkdir(parents=True, exist_ok=True)
        c.logs.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.yaml").write_text(_LOG4J2.format(log=self.log_file))
        properties = self.home / "server.properties"
        secure = f"SASL_SSL://127.0.0.1:{c.kafka_secure_port}"
        properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{c.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{c.kafka_port},{secure},CONTROLLER://127.0.0.1:{c.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{c.kafka_port},{secure}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
                    "sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512",
                    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                    "listener.name.sasl_ssl.ssl.keystore.type=PEM",
                    f"listener.name.sasl_ssl.ssl.keystore.location={self._keystore()}",
                    f"log.dirs={self.data}",
                    # One broker here; a cluster sets 3 and min.insync.replicas=2 (see README).
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # Topics are provisioned by the project with explicit settings, never by a
                    # client that mistyped a name.
                    "auto.create.topics.enable=false",
                    "num.partitions=6",
                    "log.flush.interval.messages=9223372036854775807",
                ]
            )
            + "\n"
        )
        return properties

    @property
    def _scram_marker(self) -> Path:
        return self.home / "scram-user.done"

    def _scram(self) -> str:
        return f"SCRAM-SHA-512=[name={self.config.kafka_user},password={self.config.kafka_password}]"

    def format(self) -> None:
        """Format the storage on first start, with the services' SCRAM user; a formatted folder
        is reused as it is."""
        properties = self._write_config()
        if (self.data / "meta.properties").is_file():
            return
        cluster_id = _kafka_uuid()
        subprocess.run(  # noqa: S603
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(properties),
                "--add-scram",
                self._scram(),
            ),
            check=True,
            capture_output=True,
        )
        self._scram_marker.touch()

    def _add_scram_user(self) -> None:
        """Give a storage formatted before the SASL_SSL listener existed its SCRAM user (once)."""
        if self._scram_marker.is_file():
            return
        subprocess.run(  # noqa: S603
            self._java(
                "kafka.admin.ConfigCommand",
                "--bootstrap-server",
                self.config.kafka_bootstrap,
                "--alter",
                "--add-config",
                f"SCRAM-SHA-512=[password={self.config.kafka_password}]",
                "--entity-type",
                "users",
                "--entity-name",
                self.config.kafka_user,
            ),
            check=True,
            capture_output=True,
        )
        self._scram_marker.touch()

    def running(self) -> bool:
        return is_running(self.pid_file) is not None

    def start(self, *, timeout: float = 90.0) -> None:
        if self.running():
            return
        self.install()
        self.format()
        log_offset = self.log_file.stat().st_size if self.log_file.is_file() else 0
        spawn(
            self._java(
                "kafka.Kafka",
                str(self.home / "server.properties"),
                jvm=(
                    "-Xms256m",
                    "-Xmx512m",
                    "-XX:+UseG1GC",
                    "-XX:MaxGCPauseMillis=20",
                    "-Djava.awt.headless=true",
                ),
            ),
            pid_file=self.pid_file,
            log_file=self.config.logs / "kafka.stdout.log",
        )
        wait_for(
            lambda: self.running() and port_open(self.config.kafka_port) and self._started_since(log_offset),
            timeout=timeout,
            what="Kafka broker",
            log_file=self.log_file,
        )
        self._add_scram_user()

    def _started_since(self, offset: int) -> bool:
        """Whether this run of the broker (log lines after ``offset``) reports it has started."""
        if not self.log_file.is_file():
            return False
        with self.log_file.open("rb") as log:
            log.seek(offset if log.seek(0, 2) >= offset else 0)
            return b"Kafka Server started" in log.read()

    def stop(self, *, kill: bool = False) -> bool:
        return stop(self.pid_file, timeout=60.0, kill=kill)


def _kafka_uuid() -> str:
    """A cluster id as Kafka writes them: 16 random bytes, URL-safe base64 without padding, and,
    as Kafka's own ``Uuid.randomUuid`` does, never one starting with "-", which the storage tool
    would read as an option (one format in 64 failed before)."""
    import base64  # noqa: PLC0415

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id
