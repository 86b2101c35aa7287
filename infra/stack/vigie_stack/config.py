"""Where the local stack keeps its state and which loopback ports it uses.

Three profiles share the machine without touching each other: ``dev`` (the README's demo),
``test`` (the test suite, which starts from an empty state every run) and ``bench`` (the
benchmarks, likewise).
"""

import hashlib
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

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def kafka_secure_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_secure_port}"

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


def profile(name: str) -> StackConfig:
    root = repository_root()
    if name == "dev":
        return StackConfig(
            name="dev",
            root=root,
            kafka_port=19092,
            controller_port=19093,
            kafka_secure_port=19094,
            postgres_port=15432,
            receiver_port=8190,
            zipkin_port=19411,
            smtp_port=8125,
            service_ports={
                "declaration": 8100,
                "enrichment": 8101,
                "notification": 8102,
                "stats": 8103,
            },
        )
    if name == "test":
        return StackConfig(
            name="test",
            root=root,
            kafka_port=29092,
            controller_port=29093,
            kafka_secure_port=29094,
            postgres_port=25432,
            receiver_port=8290,
            zipkin_port=29411,
            smtp_port=8225,
            service_ports={
                "declaration": 8200,
                "enrichment": 8201,
                "notification": 8202,
                "stats": 8203,
            },
        )
    if name == "bench":
        return StackConfig(
            name="bench",
            root=root,
            kafka_port=39092,
            controller_port=39093,
            kafka_secure_port=39094,
            postgres_port=35432,
            receiver_port=8390,
            zipkin_port=39411,
            smtp_port=8325,
            service_ports={"declaration": 8300, "enrichment": 8301, "notification": 8302, "stats": 8303},
        )
    raise ValueError(f"unknown stack profile {name!r}")


def pinned_version(root: Path, component: str) -> str:
    """The version of a Java component (``kafka``, ``zipkin``), read from the one place it is
    written: ``infra/<component>/pom.xml``."""
    pom = (root / "infra" / component / "pom.xml").read_text()
    match = re.search(rf"<{component}.version>([^<]+)</{component}.version>", pom)
    if match is None:
        raise RuntimeError(f"infra/{component}/pom.xml does not pin <{component}.version>")
    return match.group(1)
