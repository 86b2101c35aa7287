"""The services' logs are JSON lines that ops can follow a declaration through, by its id and by
its trace, and that never hold a secret, a token or a social security number."""

import asyncio
import json

import httpx

from vigie_contracts.nir import nir_key
from vigie_contracts.tracing import DECLARATION_REFERENCE
from vigie_stack.config import SERVICES
from vigie_stack.mailbox import smtp_password
from vigie_stack.receiver import directory_secrets
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import settle, wait_for_status, wait_until


def log_lines(stack: Stack, service: str) -> list[dict[str, str]]:
    lines = stack.services[service].log_file.read_text().splitlines()
    entries = []
    for number, line in enumerate(lines, 1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"{service}.log line {number} is not JSON: {line[:200]}") from None
    return entries


async def test_logs_follow_a_declaration_and_keep_no_secret(
    stack: Stack, api: httpx.AsyncClient, credentials: dict[str, dict[str, str]]
) -> None:
    nir = "2850578006084" + f"{nir_key('2850578006084'):02d}"
    body = declaration(
        finess=finess_in("27", 793000),
        description=f"Rançongiciel ; le dossier du patient {nir} a été vu sur le serveur compromis.",
    )
    accepted = (await api.post("/v1/declarations", json=body)).json()
    assert accepted["redactions"]["nir"] == 1
    # A wrong token is refused; it must not be written down either.
    stolen = "vg_not_a_real_token_3f9d2c"
    refused = await httpx.AsyncClient(base_url=str(api.base_url), headers={"Authorization": f"Bearer {stolen}"}).get(
        f"/v1/declarations/{accepted['id']}"
    )
    assert refused.status_code == 401
    await wait_for_status(api, [accepted["id"]])
    await settle(stack)

    # The declaration's own lines, in each service it went through, carry its id and its trace.
    traces: list[str] = []

    async def traced() -> bool:
        found = await asyncio.to_thread(stack.zipkin.traces_tagged, DECLARATION_REFERENCE, accepted["reference"])
        traces[:] = [spans[0]["traceId"] for spans in found]
        return len(traces) == 1

    await wait_until(traced, timeout=60, what="the declaration's trace in Zipkin")
    about = {
        service: [line for line in log_lines(stack, service) if line.get("declaration_id") == accepted["id"]]
        for service in SERVICES
    }
    assert [line["message"] for line in about["declaration"]] == [f"accepted revision 1 of {accepted['reference']}"]
    assert about["enrichment"][0]["message"].startswith(f"enriched revision 1 of {accepted['reference']}")
    # ARS, CERT Santé and the HFDS by webhook and e-mail, the declarant by e-mail.
    assert len([line for line in about["notification"] if line["message"].startswith("sent ")]) == 7
    for line in about["declaration"] + about["enrichment"] + about["notification"]:
        assert line["trace_id"] == traces[0], line
        assert len(line["span_id"]) == 16
        assert line["reference"] == accepted["reference"]

    # No secret of any kind, no social security number, in any line of any service.
    secrets = {
        "partner token": credentials["partner"]["secret"],
        "national token": credentials["national"]["secret"],
        "refused token": stolen,
        "SMTP password": smtp_password(stack.config),
        **{
            f"{code} webhook secret": secret.decode()
            for code, secret in directory_secrets(stack.config.recipients_file).items()
        },
        **{f"{role} database password": stack.postgres.password(f"vigie_{role}") for role in SERVICES},
    }
    for service in SERVICES:
        text = stack.services[service].log_file.read_text()
        for what, secret in secrets.items():
            assert secret not in text, f"the {what} is in {service}.log"
        assert nir[:13] not in text, f"a social security number is in {service}.log"
