"""Finding 8 of the security review, its last item: the services could reach Kafka only over
PLAINTEXT and PostgreSQL only without TLS. The stack now runs the real broker with a SASL_SSL
listener (TLS, SCRAM-SHA-512) and PostgreSQL with TLS for every network connection, and the
services reach both as production would (VIGIE_KAFKA_SECURITY_PROTOCOL=SASL_SSL,
sslmode=verify-full): every end-to-end test goes through them. Here, that it is so, and that
the wrong ways in are refused."""

import ssl
from uuid import uuid4

import asyncpg
import pytest
import trustme
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from vigie_stack.config import SERVICES
from vigie_stack.mailbox import local_tls
from vigie_stack.stack import Stack

from ..support.pipeline import wait_until


async def test_every_service_talks_to_postgresql_over_tls(stack: Stack) -> None:
    admin = await stack.postgres.connect_as_admin()
    try:

        async def every_service_connected() -> bool:
            rows = await admin.fetch(
                "SELECT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                " WHERE a.usename LIKE 'vigie\\_%' AND a.backend_type = 'client backend'"
            )
            found = {row["usename"] for row in rows}
            assert all(row["ssl"] for row in rows), [r["usename"] for r in rows if not r["ssl"]]
            return found >= {f"vigie_{service}" for service in SERVICES}

        await wait_until(every_service_connected, timeout=30, what="a connection of each service")
    finally:
        await admin.close()


async def test_postgresql_refuses_a_connection_in_clear_and_a_certificate_it_cannot_verify(stack: Stack) -> None:
    role = "vigie_stats"

    async def connect(tls: ssl.SSLContext | bool) -> None:
        await asyncpg.connect(
            host="127.0.0.1",
            port=stack.config.postgres_port,
            user=role,
            password=stack.postgres.password(role),
            database=role,
            ssl=tls,
        )

    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await connect(False)
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(_stranger())  # an authority that signed nothing here
    verified = await asyncpg.connect(stack.postgres.dsn("stats"))
    try:
        assert await verified.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
    finally:
        await verified.close()


def test_the_services_reach_kafka_over_sasl_ssl(stack: Stack) -> None:
    for service in SERVICES:
        env = stack.services[service].env()
        assert env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"] == f"127.0.0.1:{stack.config.kafka_secure_port}"
        assert env["VIGIE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["VIGIE_KAFKA_CA_FILE"] == str(local_tls(stack.config).ca_file)


def _secure(stack: Stack, *, password: str | None = None, authority: ssl.SSLContext | None = None) -> dict[str, object]:
    return {
        "bootstrap_servers": f"127.0.0.1:{stack.config.kafka_secure_port}",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": stack.config.kafka_user,
        "sasl_plain_password": password or stack.config.kafka_password,
        "ssl_context": authority or ssl.create_default_context(cafile=local_tls(stack.config).ca_file),
        "request_timeout_ms": 5000,
    }


async def test_kafkas_sasl_ssl_listener_takes_the_services_user_and_no_one_else(stack: Stack) -> None:
    topic = "credential.changed.v1.dlt"
    marker = uuid4().hex.encode()
    producer = AIOKafkaProducer(**_secure(stack))
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, marker, key=b"transport-test")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**_secure(stack), enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        records = await consumer.getmany(partition, timeout_ms=5000)
        assert [r.value for r in records[partition]] == [marker]
    finally:
        await consumer.stop()

    for wrong in (
        _secure(stack, password="not-the-password"),
        _secure(stack, authority=_stranger()),
        {"bootstrap_servers": f"127.0.0.1:{stack.config.kafka_secure_port}", "request_timeout_ms": 3000},
    ):
        intruder = AIOKafkaProducer(**wrong)
        with pytest.raises((KafkaError, KafkaConnectionError, ssl.SSLError, OSError)):
            await intruder.start()
        await intruder.stop()


def _stranger() -> ssl.SSLContext:
    context = ssl.create_default_context()
    trustme.CA().configure_trust(context)
    return context
