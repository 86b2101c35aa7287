"""The stack's own helpers that do not need the stack running."""

import dataclasses
import subprocess
import uuid
from pathlib import Path

import pytest

from vigie_stack import kafka
from vigie_stack.balancer import Balancer, haproxy
from vigie_stack.config import MAX_INSTANCES, StackConfig, profile


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 makes the URL-safe base64 text start with "-": the storage tool reads it as an option.
    drawn = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" + bytes(15))])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))

    cluster_id = kafka._kafka_uuid()

    assert cluster_id == "AQAAAAAAAAAAAAAAAAAAAA"
    assert len(cluster_id) == 22


def _config(tmp_path: Path, *, brokers: int, instances: int) -> StackConfig:
    return dataclasses.replace(profile("chaos"), root=tmp_path, brokers=brokers, instances=instances)


def test_a_cluster_gives_each_node_and_each_instance_ports_of_its_own(tmp_path: Path) -> None:
    config = _config(tmp_path, brokers=3, instances=2)
    assert [config.node_ports(n) for n in range(3)] == [
        (32092, 32094, 32093),
        (32102, 32104, 32103),
        (32112, 32114, 32113),
    ]
    assert config.kafka_secure_bootstrap == "127.0.0.1:32094,127.0.0.1:32104,127.0.0.1:32114"
    assert (config.replication_factor, config.min_insync_replicas) == (3, 2)
    assert [config.instance_port("declaration", n) for n in range(2)] == [8410, 8420]
    alone = _config(tmp_path, brokers=1, instances=1)
    assert (alone.instance_port("declaration", 0), alone.replication_factor, alone.min_insync_replicas) == (8400, 1, 1)
    ports = {p for n in range(3) for p in config.node_ports(n)}
    ports |= {config.instance_port(s, n) for s in config.service_ports for n in range(MAX_INSTANCES)}
    ports |= {
        config.postgres_port,
        config.receiver_port,
        config.smtp_port,
        config.zipkin_port,
        *config.service_ports.values(),
    }
    assert len(ports) == 3 * 3 + 4 * MAX_INSTANCES + 4 + 4, "no two parts share a port"


def test_a_single_node_s_storage_is_not_turned_into_a_cluster(tmp_path: Path) -> None:
    config = _config(tmp_path, brokers=1, instances=1)
    (config.state / "kafka" / "data").mkdir(parents=True)
    (config.state / "kafka" / "data" / "meta.properties").write_text("node.id=1\n")
    with pytest.raises(ValueError, match="start afresh: vigie-stack --profile chaos reset"):
        config.with_shape(brokers=3)
    assert config.with_shape(instances=3).instances == 3, "instances change freely"
    with pytest.raises(ValueError, match="--instances: 1 to 8"):
        config.with_shape(instances=9)


def test_the_balancer_retries_a_post_only_with_its_idempotency_key(tmp_path: Path) -> None:
    config = _config(tmp_path, brokers=3, instances=2)
    text = Balancer(config).render()
    assert "server declaration-2 127.0.0.1:8420 check" in text
    assert "option httpchk GET /health/serving" in text
    assert "http-request disable-l7-retry if METH_POST !{ req.hdr(idempotency-key) -m found }" in text
    # HAProxy itself reads it (the set-up installs it).
    (tmp_path / "haproxy.cfg").write_text(text)
    command = [haproxy(), "-c", "-f", str(tmp_path / "haproxy.cfg")]
    checked = subprocess.run(command, check=False, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_no_profile_listens_where_outgoing_connections_take_their_ports() -> None:
    """Linux gives outgoing connections local ports from 32768 (ip_local_port_range): a stack
    listening there may find its port taken by one of its own clients. And two profiles never
    share a port, so that the tests, the demo, the bench and the fault run can run side by side."""
    owner: dict[int, str] = {}
    for name in ("dev", "test", "bench", "chaos", "service"):
        config = dataclasses.replace(profile(name), brokers=3, instances=MAX_INSTANCES)
        ports = {p for n in range(3) for p in config.node_ports(n)}
        ports |= {config.instance_port(s, n) for s in config.service_ports for n in range(MAX_INSTANCES)}
        ports |= {config.postgres_port, config.receiver_port, config.smtp_port, config.zipkin_port}
        ports |= set(config.service_ports.values())
        assert max(ports) < 32768, name
        shared = {port: owner[port] for port in ports if port in owner}
        assert not shared, (name, shared)
        owner |= dict.fromkeys(ports, name)
