"""Real Apache Kafka in KRaft mode, from the official artifacts on Maven Central: one node, or a
cluster of three as production runs it.

``mvn`` resolves ``org.apache.kafka:kafka_2.13`` (version pinned in ``infra/kafka/pom.xml``) and
its dependencies into the local Maven cache and copies them into ``.state/cache``; each node's
storage is formatted once, and every node, broker and controller at once, listens on loopback
only. Three nodes form the metadata quorum (two of them elect a leader: one may be down), and
every partition has three copies, two of which must take a write (``min.insync.replicas=2``).

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
from .process import is_running, port_open, spawn, stop, stop_together, wait_for

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


class KafkaNode:
    def __init__(self, config: StackConfig, node: int = 0, cluster_id: str | None = None) -> None:
        self.config = config
        self.node = node
        self.cluster_id = cluster_id
        self.maven = MavenComponent(config, "kafka")
        self.version = self.maven.version
        # One node keeps the folder a single broker always had; a cluster's are numbered.
        suffix = "" if config.brokers == 1 else f"-{node + 1}"
        self.home = config.state / f"kafka{suffix}"
        self.data = self.home / "data"
        self.libs = self.maven.libs
        self.pid_file = self.home / "kafka.pid"
        self.log_file = config.logs / f"kafka{suffix}.log"
        self.plain_port, self.secure_port, self.controller_port = config.node_ports(node)

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
        plain = f"PLAINTEXT://127.0.0.1:{self.plain_port}"
        secure = f"SASL_SSL://127.0.0.1:{self.secure_port}"
        voters = ",".join(f"{n + 1}@127.0.0.1:{c.node_ports(n)[2]}" for n in range(c.brokers))
        copies, insync = c.replication_factor, c.min_insync_replicas
        properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    f"node.id={self.node + 1}",
                    f"controller.quorum.voters={voters}",
                    f"listeners={plain},{secure},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners={plain},{secure}",
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
                    # Kafka's own topics copied like the project's (topics.py).
                    f"offsets.topic.replication.factor={copies}",
                    f"transaction.state.log.replication.factor={copies}",
                    f"transaction.state.log.min.isr={insync}",
                    f"share.coordinator.state.topic.replication.factor={copies}",
                    f"share.coordinator.state.topic.min.isr={insync}",
                    f"default.replication.factor={copies}",
                    f"min.insync.replicas={insync}",
                    # A copy that falls behind is not elected leader: acknowledged writes stay.
                    "unclean.leader.election.enable=false",
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
        """Format the storage on first start, with the services' SCRAM user and the cluster's id
        (the same on every node); a formatted folder is reused as it is."""
        properties = self._write_config()
        if (self.data / "meta.properties").is_file():
            return
        subprocess.run(  # noqa: S603
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                self.cluster_id or _kafka_uuid(),
                "-c",
                str(properties),
                "--add-scram",
                self._scram(),
            ),
            check=True,
            capture_output=True,
        )
        self._scram_marker.touch()

    def add_scram_user(self) -> None:
        """Give a storage formatted before the SASL_SSL listener existed its SCRAM user (once)."""
        if self._scram_marker.is_file():
            return
        subprocess.run(  # noqa: S603
            self._java(
                "kafka.admin.ConfigCommand",
                "--bootstrap-server",
                f"127.0.0.1:{self.plain_port}",
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

    def spawn(self) -> int:
        """Start the node's process (formatted first if new); returns where its log stood, to
        read this run's start from."""
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
            log_file=self.config.logs / f"{self.log_file.stem}.stdout.log",
        )
        return log_offset

    def started(self, log_offset: int) -> bool:
        return self.running() and port_open(self.plain_port) and self._started_since(log_offset)

    def start(self, *, timeout: float = 90.0) -> None:
        """Start this node alone (the others running: a node restored to its cluster)."""
        if self.running():
            return
        offset = self.spawn()
        what = f"Kafka node {self.node + 1}"
        wait_for(lambda: self.started(offset), timeout=timeout, what=what, log_file=self.log_file)
        self.add_scram_user()

    def _started_since(self, offset: int) -> bool:
        """Whether this run of the broker (log lines after ``offset``) reports it has started."""
        if not self.log_file.is_file():
            return False
        with self.log_file.open("rb") as log:
            log.seek(offset if log.seek(0, 2) >= offset else 0)
            return b"Kafka Server started" in log.read()

    def stop(self, *, kill: bool = False) -> bool:
        return stop(self.pid_file, timeout=60.0, kill=kill)


class KafkaCluster:
    """The stack's Kafka: its nodes, started together (a quorum of three waits for two of them)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.cluster_id_file = config.state / "kafka-cluster.id"
        cluster_id = self.cluster_id_file.read_text().strip() if self.cluster_id_file.is_file() else None
        self.nodes = [KafkaNode(config, node, cluster_id) for node in range(config.brokers)]

    @property
    def version(self) -> str:
        return self.nodes[0].version

    @property
    def pid_files(self) -> list[Path]:
        return [node.pid_file for node in self.nodes]

    def install(self) -> None:
        self.nodes[0].install()

    def running(self) -> bool:
        """Whether every node runs."""
        return all(node.running() for node in self.nodes)

    def start(self, *, timeout: float = 120.0) -> None:
        if self.config.brokers > 1 and not self.cluster_id_file.is_file():
            self.config.state.mkdir(parents=True, exist_ok=True)
            self.cluster_id_file.write_text(_kafka_uuid())
        cluster_id = self.cluster_id_file.read_text().strip() if self.cluster_id_file.is_file() else None
        starting = []
        for node in self.nodes:
            node.cluster_id = cluster_id
            if not node.running():
                starting.append((node, node.spawn()))
        for node, offset in starting:
            wait_for(
                lambda node=node, offset=offset: node.started(offset),  # type: ignore[misc]
                timeout=timeout,
                what=f"Kafka node {node.node + 1}",
                log_file=node.log_file,
            )
        for node in self.nodes:
            node.add_scram_user()

    def stop(self, *, kill: bool = False) -> bool:
        return stop_together(self.pid_files, timeout=60.0, kill=kill)


def _kafka_uuid() -> str:
    """A cluster id as Kafka writes them: 16 random bytes, URL-safe base64 without padding, and,
    as Kafka's own ``Uuid.randomUuid`` does, never one starting with "-", which the storage tool
    would read as an option (one format in 64 failed before)."""
    import base64  # noqa: PLC0415

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id
