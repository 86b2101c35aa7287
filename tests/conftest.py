"""The real stack for the cross-service tests: a Kafka broker, a PostgreSQL server and a Zipkin
server started from an empty state, the four services as separate processes, and the agencies'
stand-ins (webhook receiver, mail server) in the test process."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from vigie_stack.config import StackConfig, profile
from vigie_stack.mailbox import Mailbox, local_tls, smtp_password
from vigie_stack.receiver import WebhookReceiver, directory_secrets, write_directory
from vigie_stack.stack import Stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def stack_config() -> StackConfig:
    config = profile("test")
    Stack(config).reset()  # every run starts from an empty state
    config.state.mkdir(parents=True)
    return config


@pytest.fixture(scope="session")
def receiver(stack_config: StackConfig) -> Iterator[WebhookReceiver]:
    write_directory(stack_config, f"http://127.0.0.1:{stack_config.receiver_port}")
    receiver = WebhookReceiver(directory_secrets(stack_config.recipients_file), port=stack_config.receiver_port)
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def mailbox(stack_config: StackConfig) -> Iterator[Mailbox]:
    """The agencies' mail server stand-in: STARTTLS and authentication required."""
    box = Mailbox(stack_config.smtp_port, local_tls(stack_config), smtp_password(stack_config))
    box.start()
    yield box
    box.stop()


@pytest_asyncio.fixture(scope="session")
async def stack(stack_config: StackConfig, receiver: WebhookReceiver, mailbox: Mailbox) -> AsyncIterator[Stack]:
    stack = Stack(
        stack_config,
        service_env={
            "*": {
                "VIGIE_CONSUMER_BATCH_TIMEOUT_MS": "20",
                "VIGIE_OUTBOX_POLL_SECONDS": "0.5",
                # Spans go to the stack's Zipkin, as in the dev stack, a little sooner.
                "OTEL_TRACES_EXPORTER": "zipkin",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                # The suite fails to authenticate on purpose many times from one address; the
                # brake itself is tried from an address of its own (test_security_smaller.py).
                "VIGIE_FAILED_AUTHENTICATIONS_PER_MINUTE": "100",
            },
            # A body still arriving after 2 s is refused; a request waits 5 s for a place, time
            # enough to watch it wait (test_admission.py).
            "declaration": {"VIGIE_BODY_SECONDS": "2", "VIGIE_INTAKE_WAIT_SECONDS": "5"},
            "notification": {
                "VIGIE_RETRY_BASE_SECONDS": "0.2",
                "VIGIE_RETRY_MAX_SECONDS": "1",
                "VIGIE_MAX_ATTEMPTS": "4",
                "VIGIE_DELIVERY_LEASE_SECONDS": "5",
                "VIGIE_WEBHOOK_TIMEOUT_SECONDS": "1",
                "VIGIE_BREAKER_FAILURES": "3",
                "VIGIE_BREAKER_COOLDOWN_SECONDS": "1",
            },
        },
    )
    await asyncio.to_thread(stack.start_infrastructure)
    await asyncio.to_thread(stack.start_services)
    await asyncio.to_thread(stack.load_intel_samples)
    yield stack
    await asyncio.to_thread(stack.down)


@pytest_asyncio.fixture(scope="session")
async def credentials(stack: Stack) -> dict[str, dict[str, str]]:
    """Credentials made with the service's own command: a partner that may declare for any
    structure (as the national web form does) and CERT Santé."""
    return {
        "partner": await asyncio.to_thread(
            stack.credential,
            "--kind",
            "partner",
            "--name",
            "Formulaire national (tests)",
            "--departement",
            "*",
            # the fuzzing tests alone send more than the default 600 requests a minute
            "--rate",
            "100000",
            # its declarants (vigie_stack.samples) are acknowledged there
            "--mail-domain",
            "structure.example.fr",
        ),
        "national": await asyncio.to_thread(
            stack.credential,
            "--kind",
            "national",
            "--name",
            "CERT Santé (tests)",
            "--rate",
            "100000",
        ),
    }


def client(stack: Stack, secret: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return httpx.AsyncClient(base_url=stack.config.service_url("declaration"), timeout=10, headers=headers)


@pytest_asyncio.fixture(scope="session")
async def api(stack: Stack, credentials: dict[str, dict[str, str]]) -> AsyncIterator[httpx.AsyncClient]:
    """The declaration API as the all-structures partner, which reads what it declared."""
    async with client(stack, credentials["partner"]["secret"]) as partner:
        yield partner


@pytest_asyncio.fixture(scope="session")
async def national_api(stack: Stack, credentials: dict[str, dict[str, str]]) -> AsyncIterator[httpx.AsyncClient]:
    async with client(stack, credentials["national"]["secret"]) as national:
        yield national


async def reads_figures(client: httpx.AsyncClient) -> None:
    """Wait until the stats service knows the client's credential: it learns of credentials from
    the declaration service's events, a moment after they are created."""

    async def known() -> bool:
        return (await client.get("/v1/stats", params={"group_by": "region", "public": "false"})).status_code == 200

    for _ in range(150):
        if await known():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the stats service never learnt of the credential")


@pytest_asyncio.fixture(scope="session")
async def stats_api(stack: Stack, credentials: dict[str, dict[str, str]]) -> AsyncIterator[httpx.AsyncClient]:
    """The stats API as CERT Santé: every exact figure."""
    headers = {"Authorization": f"Bearer {credentials['national']['secret']}"}
    async with httpx.AsyncClient(base_url=stack.config.service_url("stats"), timeout=10, headers=headers) as client:
        await reads_figures(client)
        yield client


@pytest_asyncio.fixture(scope="session")
async def public_stats(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The stats API as anybody: no credential."""
    async with httpx.AsyncClient(base_url=stack.config.service_url("stats"), timeout=10) as client:
        yield client
