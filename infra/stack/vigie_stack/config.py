"""Where the local stack keeps its state and which loopback ports it uses.

Four profiles share the machine without touching each other: ``dev`` (the README's demo),
``test`` (the test suite, which starts from an empty state every run), ``bench`` (the
benchmarks, likewise) and ``chaos`` (the fault run, on a cluster of its own).

A stack's shape is how many Kafka nodes and how many processes of each service it runs: one and
one unless asked (``vigie-stack up --brokers 3 --instances 2``). Node ``n`` of the cluster
listens ten ports above node ``n - 1``; with several instances, instance ``n`` of a service
listens ``10 × n`` above the service's port, and a load balancer takes the service's own port.
The shape is kept in the state folder, so that ``down`` and ``status`` know what runs.
"""

import dataclasses
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("declaration", "enrichment", "notification", "stats")


def repository_root() -> Path:
    if root := os.environ.get("VIGIE_ROOT"):
        return Path(root).resolve()
    for parent in Path(__file__).resolve().parents:
        if (parent / "infra" / "kafka" / "pom.xml").is_file():
            return parent
    raise RuntimeError("cannot find the Vigie repository root; set VIGIE_ROOT")


@dataclass(frozen=True)
class StackConfig:
    name: str
    root: Path
    kafka_port: int
    controller_port: int
    # The broker's SASL_SSL listener, which the services use; kafka_port is the plain one the
    # stack's own tools (topic provisioning, the tests' inspection) use on loopback.
    kafka_secure_port: int
    postgres_port: int
    receiver_port: int
    smtp_port: int = 0
    zipkin_port: int = 0
    service_ports: dict[str, int] = field(default_factory=dict)
    brokers: int = 1
    instances: int = 1

    @property
    def state(self) -> Path:
        return self.root / ".state" / self.name

    @property
    def cache(self) -> Path:
        """Downloaded artifacts, shared by the profiles."""
        return self.root / ".state" / "cache"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def secrets(self) -> Path:
        return self.state / "secrets"

    def secret(self, name: str) -> str:
        """The stack's secret ``name``, generated at first use into its state folder (readable by
        its owner alone); never in the repository."""
        path = self.secrets / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def metrics_token(self) -> str:
        """What the operators' scraper sends to every service's ``/metrics``."""
        return self.secret("metrics.token")

    @property
    def metrics_token_sha256(self) -> str:
        return hashlib.sha256(self.metrics_token.encode()).hexdigest()

    def node_ports(self, node: int) -> tuple[int, int, int]:
        """Node ``node``'s (0-based) plain, SASL_SSL and controller ports."""
        step = 10 * node
        return self.kafka_port + step, self.kafka_secure_port + step, self.controller_port + step

    @property
    def kafka_bootstrap(self) -> str:
        """Every node's plain listener, for the stack's own tools."""
        return ",".join(f"127.0.0.1:{self.node_ports(n)[0]}" for n in range(self.brokers))

    @property
    def kafka_secure_bootstrap(self) -> str:
        """Every node's SASL_SSL listener, the services'."""
        return ",".join(f"127.0.0.1:{self.node_ports(n)[1]}" for n in range(self.brokers))

    @property
    def replication_factor(self) -> int:
        """Three copies of every partition on a cluster of three or more, as production runs."""
        return min(self.brokers, 3)

    @property
    def min_insync_replicas(self) -> int:
        """Two of the three copies written before a write is acknowledged: one node may go."""
        return 2 if self.replication_factor >= 3 else 1

    def instance_port(self, service: str, instance: int) -> int:
        """Where instance ``instance`` (0-based) of ``service`` listens: the service's own port when
        it runs alone, ``10 × (instance + 1)`` above it behind the load balancer otherwise."""
        base = self.service_ports[service]
        return base if self.instances == 1 else base + 10 * (instance + 1)

    @property
    def balanced(self) -> bool:
        return self.instances > 1

    @property
    def shape_file(self) -> Path:
        return self.state / "shape.json"

    def with_shape(self, *, brokers: int | None = None, instances: int | None = None) -> "StackConfig":
        """This stack with another shape; a folder formatted for one number of Kafka nodes keeps
        it (its metadata quorum and its topics' copies were set for them)."""
        if instances is not None and not 1 <= instances <= MAX_INSTANCES:
            raise ValueError(f"--instances: 1 to {MAX_INSTANCES}, not {instances}")
        if brokers is not None and brokers not in (1, 3):
            raise ValueError(f"--brokers: 1 or 3 (a quorum of three tolerates one node down), not {brokers}")
        if brokers is not None and brokers != self.brokers and _formatted(self):
            raise ValueError(
                f"the {self.name} stack's Kafka holds {self.brokers} node(s); to run {brokers},"
                f" start afresh: vigie-stack --profile {self.name} reset"
            )
        return dataclasses.replace(
            self,
            brokers=self.brokers if brokers is None else brokers,
            instances=self.instances if instances is None else instances,
        )

    def save_shape(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.shape_file.write_text(json.dumps({"brokers": self.brokers, "instances": self.instances}))

    @property
    def kafka_user(self) -> str:
        """The SCRAM user the services authenticate as on the broker's SASL_SSL listener."""
        return "vigie"

    @property
    def kafka_password(self) -> str:
        return self.secret("kafka-scram.password")

    @property
    def recipients_file(self) -> Path:
        return self.state / "recipients.json"

    @property
    def zipkin_url(self) -> str:
        return f"http://127.0.0.1:{self.zipkin_port}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[service]}"


# Instance ports step by ten above a service's: the ninth would reach the stand-in receiver's.
MAX_INSTANCES = 8


def _formatted(config: StackConfig) -> bool:
    return any((config.state / home / "data" / "meta.properties").is_file() for home in ("kafka", "kafka-1"))


def profile(name: str) -> StackConfig:
    """A profile's ports, in the shape its state folder last ran (one node, one instance if new)."""
    config = _ports(name)
    if config.shape_file.is_file():
        shape = json.loads(config.shape_file.read_text())
        config = dataclasses.replace(config, brokers=int(shape["brokers"]), instances=int(shape["instances"]))
    return config


# Each profile owns a number d, so that several stacks run side by side: the four services on
# 8d00-8d03, the stand-in receiver on 8d90, the mail server on 8d25, and Kafka (a cluster's other
# nodes ten and twenty above), PostgreSQL and Zipkin in a block of their own. Every port is below
# 32768, where Linux starts handing out the local ports of outgoing connections: a listener
# there may find its port taken by a client's connection (a fault run once could not start its
# Kafka node for that).
_PROFILE_DIGITS = {"dev": 1, "test": 2, "bench": 3, "chaos": 4, "service": 5}
# (Kafka's first port, PostgreSQL, Zipkin) of each profile.
_PROFILE_BLOCKS = {
    "dev": (19092, 15432, 19411),
    "test": (29092, 25432, 29411),
    "bench": (31092, 31432, 31411),
    "chaos": (32092, 32432, 32411),
    "service": (30092, 30432, 30411),
}
# The fault run is about the cluster: three nodes, two instances of each service, from the start.
_PROFILE_SHAPES = {"chaos": (3, 2)}


def _ports(name: str) -> StackConfig:
    if name not in _PROFILE_DIGITS:
        raise ValueError(f"unknown stack profile {name!r}")
    d = _PROFILE_DIGITS[name]
    kafka, postgres, zipkin = _PROFILE_BLOCKS[name]
    brokers, instances = _PROFILE_SHAPES.get(name, (1, 1))
    return StackConfig(
        name=name,
        root=repository_root(),
        kafka_port=kafka,
        controller_port=kafka + 1,
        kafka_secure_port=kafka + 2,
        postgres_port=postgres,
        receiver_port=int(f"8{d}90"),
        zipkin_port=zipkin,
        smtp_port=int(f"8{d}25"),
        service_ports={service: int(f"8{d}0{i}") for i, service in enumerate(SERVICES)},
        brokers=brokers,
        instances=instances,
    )


def pinned_version(root: Path, component: str) -> str:
    """The version of a Java component (``kafka``, ``zipkin``), read from the one place it is
    written: ``infra/<component>/pom.xml``."""
    pom = (root / "infra" / component / "pom.xml").read_text()
    match = re.search(rf"<{component}.version>([^<]+)</{component}.version>", pom)
    if match is None:
        raise RuntimeError(f"infra/{component}/pom.xml does not pin <{component}.version>")
    return match.group(1)
